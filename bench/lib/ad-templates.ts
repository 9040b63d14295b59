/** The benchmarks' large test-DC templates: users with realistic attributes and one large group, grown size by size. */
import { adminClient, addGroup, addOu, bulkLoad, ldifAdd, ldifAddValues, userEntry } from '../../scripts/test-dc/seed.ts';
import type { TemplateSeed, TestDc } from '../../scripts/test-dc/test-dc.ts';

export const largeGroup = 60_000;

/** The chain of seeds for `sizes` (ascending): each template starts from the one before. */
export function seedsFor(sizes: number[]): Map<number, TemplateSeed> {
  const out = new Map<number, TemplateSeed>();
  let previous: { size: number; seed: TemplateSeed } | undefined;
  for (const size of [...sizes].sort((a, b) => a - b)) {
    const seed = seedFor(size, previous?.size, previous?.seed);
    out.set(size, seed);
    previous = { size, seed };
  }
  return out;
}

/**
 * Template seeds that grow: users-30000 starts from users-10000 and adds
 * 20,000. Users and memberships are bulk-loaded (seed.ts bulkLoad): over
 * LDAP, Samba's adds slow down linearly with the directory, and a
 * 100,000-user template would take hours.
 */
export function seedFor(size: number, smaller: number | undefined, base: TemplateSeed | undefined): TemplateSeed {
  return {
    name: `users-${size}`,
    ...(base ? { base } : {}),
    run: async (dc: TestDc) => {
      const ou = `OU=Bench,${dc.baseDn}`;
      if (!smaller) {
        const client = await adminClient(dc);
        try {
          await addOu(client, ou);
          await addGroup(client, `CN=Bench Large Group,${ou}`, { sam: 'bench-large-group' });
        } finally {
          await client.unbind();
        }
      }
      const from = smaller ?? 0;
      const started = Date.now();
      const progress = (what: string) => (n: number) => process.stderr.write(`\r  seeding users-${size}: ${what} ${n} (${Math.round(n / ((Date.now() - started) / 1000))}/s)   `);
      const dns: string[] = [];
      await bulkLoad(dc, (function* () {
        for (let index = from; index < size; index++) {
          const e = userEntry({ ou, dnsDomain: dc.dnsDomain, index });
          if (index < largeGroup) dns.push(e.dn);
          yield ldifAdd(e.dn, e.attributes);
        }
      })(), { onProgress: progress(`users ${from} +`) });
      // One large group: the first 60,000 users (or all of them).
      const want = Math.min(size, largeGroup);
      const valuesPerModify = 5000;
      await bulkLoad(dc, (function* () {
        for (let i = 0; i < dns.length; i += valuesPerModify) yield ldifAddValues(`CN=Bench Large Group,${ou}`, 'member', dns.slice(i, i + valuesPerModify));
      })(), { perTransaction: 1, onProgress: (n) => progress('member values')(Math.min(n * valuesPerModify, dns.length)) });
      process.stderr.write('\n');
      return { size, groupMembers: want };
    },
  };
}


/** The password of bench user i in the users-with-passwords templates. */
export const passwordOf = (i: number): string => `Bench-${i}-Passw0rd!`;

/**
 * users-with-passwords-N: N users in OU=Bench, user i with passwordOf(i).
 * Samba derives Kerberos keys for each password, so this seeds at about
 * 55 users/s here: seeded once per machine, copied per run.
 */
export function seedWithPasswords(size: number): TemplateSeed {
  return {
    // short: Samba's messaging sockets live under the template's directory, and a Unix socket path has at most 108 bytes
    name: `pw-${size}`,
    run: async (dc: TestDc) => {
      const client = await adminClient(dc);
      try {
        const ou = `OU=Bench,${dc.baseDn}`;
        await addOu(client, ou);
        const started = Date.now();
        let next = 0;
        let done = 0;
        const worker = async () => {
          while (next < size) {
            const i = next++;
            const e = userEntry({ index: i, ou, dnsDomain: dc.dnsDomain, password: passwordOf(i) });
            await client.add(e.dn, e.attributes);
            if (++done % 500 === 0) process.stderr.write(`\r  seeding users-with-passwords-${size}: ${done}/${size} (${Math.round(done / ((Date.now() - started) / 1000))}/s)   `);
          }
        };
        await Promise.all(Array.from({ length: 8 }, worker));
        process.stderr.write('\n');
        return { size };
      } finally {
        await client.unbind();
      }
    },
  };
}
