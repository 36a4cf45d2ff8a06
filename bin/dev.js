#!/usr/bin/env node
'use strict';
// Runs custos straight from the TypeScript sources: no build step, no type checking (npm run typecheck does that).
process.env.NODE_ENV = 'development';
require('ts-node').register({ transpileOnly: true, project: require('node:path').join(__dirname, '..', 'tsconfig.json') });
void require('./run.js').main({ development: true });
