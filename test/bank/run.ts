import { runBank } from './bank';
import { PROFILES } from './profiles';

// npm run test:bank [-- short|long] (or BANK_PROFILE): exit code 1 when a check fails.
const name = process.argv[2] ?? process.env.BANK_PROFILE ?? 'short';
const profile = PROFILES[name as keyof typeof PROFILES];
if (!profile) {
  console.error(`unknown profile ${name}: short or long`);
  process.exit(2);
}
runBank(profile).then(
  (r) => process.exit(r.problems.length ? 1 : 0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
