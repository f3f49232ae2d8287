#!/usr/bin/env node
// The compiled gateway (`npm ci` builds dist/ through the `prepare` script).
import '../dist/cli.js';
