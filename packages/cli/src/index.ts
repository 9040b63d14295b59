export { cloudCommand, defaultDataDir } from './commands/cloud.ts';
