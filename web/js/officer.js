// The registration officer's pages (issue 16 item 3).
import { addRoutes } from './ui.js';

addRoutes({});
