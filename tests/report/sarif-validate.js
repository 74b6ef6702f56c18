// sarif-validate.js SCHEMA FILE... - validate SARIF logs against the SARIF 2.1.0 JSON schema
// (draft-04, as OASIS publishes it) with Ajv; prints the first errors of an invalid file.
const fs = require('fs');
const Ajv = require('ajv-draft-04');
const addFormats = require('ajv-formats');
// The published schema has a language-tag pattern that is not valid in unicode mode.
const ajv = new Ajv({strict: false, allErrors: true, unicodeRegExp: false});
addFormats(ajv);
const validate = ajv.compile(JSON.parse(fs.readFileSync(process.argv[2], 'utf8')));
let bad = 0;
for (const file of process.argv.slice(3)) {
  let doc;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    console.error(`${file}: not JSON: ${e.message}`);
    bad++;
    continue;
  }
  if (!validate(doc)) {
    console.error(`${file}: not valid SARIF 2.1.0:\n` + JSON.stringify(validate.errors.slice(0, 5), null, 1));
    bad++;
  }
}
process.exit(bad ? 1 : 0);
