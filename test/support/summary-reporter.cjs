// Mocha's spec reporter plus one closing line in the plain form CI reads: "N passed, N failed, N skipped"
// (with MOCHA_SUMMARY_FILE set, the counts are also appended there as a JSON line).
const Mocha = require('mocha');

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats;
      process.stdout.write(`\n${passes} passed, ${failures} failed, ${pending} skipped\n`);
      // `npm test` runs mocha once per tier and adds the tiers up for its own closing line.
      if (process.env.MOCHA_SUMMARY_FILE) {
        require('node:fs').appendFileSync(
          process.env.MOCHA_SUMMARY_FILE,
          `${JSON.stringify({ passes, failures, pending })}\n`,
        );
      }
    });
  }
}

module.exports = SummaryReporter;
