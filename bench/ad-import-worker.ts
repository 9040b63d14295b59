/** One full import in its own process, for ad-full-import.ts: prints the summary and the peak RSS. */
import { join } from 'node:path';
import { AdImporter } from '../packages/connect/src/ad/importer.ts';
import { loadConfig } from '../packages/connect/src/config/load-config.ts';
import { ConnectorSpace } from '../packages/connect/src/space/connector-space.ts';
import { ownPeakRssKb } from './lib/peak-rss.ts';

const loaded = loadConfig(process.argv[2]!);
const space = ConnectorSpace.open(join(loaded.config.stateDirectory, 'connect'));
const summary = await new AdImporter(loaded.config.activeDirectory, loaded.secrets.adPassword, space).run('full');
space.close();
process.stdout.write(JSON.stringify({ summary, maxRssKb: ownPeakRssKb(), memory: process.memoryUsage() }));
