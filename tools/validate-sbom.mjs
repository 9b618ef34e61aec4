// Validates a CycloneDX JSON SBOM against the CycloneDX schema of its own specVersion (strict:
// no properties the schema does not define), with CycloneDX's own library. Usage: node validate-sbom.mjs bom.json
import { readFile } from 'node:fs/promises'
import { Validation } from '@cyclonedx/cyclonedx-library'

const [file] = process.argv.slice(2)
if (!file) {
  console.error('Usage: node tools/validate-sbom.mjs BOM.json')
  process.exit(2)
}

const text = await readFile(file, 'utf8')
const { bomFormat, specVersion } = JSON.parse(text)
if (bomFormat !== 'CycloneDX') {
  console.error(`${file}: bomFormat is ${bomFormat}, not CycloneDX`)
  process.exit(1)
}

const errors = await new Validation.JsonStrictValidator(specVersion).validate(text)
if (errors !== null) {
  console.error(`${file}: not valid CycloneDX ${specVersion}:\n${JSON.stringify(errors, null, 2)}`)
  process.exit(1)
}

console.log(`${file}: valid CycloneDX ${specVersion} JSON (strict schema)`)
