// Loaded before every test file (`node --test --import ./dist/test/setup.js`): tests import the
// library's modules directly rather than its entry, so the built-in backends are registered here.
import '../src/backends.js';
