export { dispatch, SUBCOMMANDS, topLevelHelp } from './dispatch.js';
