import { ensureTemplate } from '../scripts/test-dc/test-dc.ts';
import { seedsFor } from './lib/ad-templates.ts';
const seeds = seedsFor([10000, 30000, 100000]);
for (const size of [10000, 30000, 100000]) {
  const t0 = Date.now();
  await ensureTemplate({ realm: 'CORP.EXAMPLE.COM', seed: seeds.get(size)! });
  console.log(size, (Date.now() - t0) / 1000, 's');
}
