// The organisation's pages (issue 16 item 4).
import { addRoutes } from './ui.js';

addRoutes({});
