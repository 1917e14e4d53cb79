// Activating an account from a registration office's letter and e-mail
// (issue 16 item 2).
import { addRoutes } from './ui.js';

addRoutes({});
