import { apiKey, showFlash } from '../cpm.js';

showFlash();
document.getElementById(apiKey.get() ? 'actions' : 'key-needed').hidden = false;
