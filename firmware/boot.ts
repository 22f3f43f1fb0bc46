// Boot code (dist/<BOARD>/pstore.boot.js, installed as a .boot file): starts pstore at every boot, before the
// application's code, with the options in the Storage file "pstore.json" when there is one. It loads the module
// by name rather than bundling it, so the application's require("pstore") gets the same, already running, instance.

import { SETTINGS_FILE } from "./config";

// An indirect call: the bundler leaves these to Espruino's require at run time (Storage module, built-in module).
const load: (name: string) => any = require;
load("pstore").start(load("Storage").readJSON(SETTINGS_FILE, true));
