#!/usr/bin/env node
// The `roster` command runs the compiled server (npm run build makes dist/).
import '../dist/main.js';
