// Generates the Postman collection and environment in docs/postman from docs/openapi.json and the
// sequence below: openapi-to-postmanv2 makes a request for every operation, and the sequence
// picks them by operationId, in order, with values, variables and tests. Deterministic, so a test
// can hold the committed files equal to what this writes. Usage: node tools/make-postman.mjs [OUTDIR]
import { createRequire } from 'node:module'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const Converter = require('openapi-to-postmanv2')
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outDir = process.argv[2] ?? join(root, 'docs', 'postman')

const json = lines => lines.map(line => `  ${line}`)
const expectStatus = code => `pm.test('answers ${code}', () => pm.response.to.have.status(${code}));`

// The working sequence: create team -> read -> product -> search -> rename -> history -> delete.
const sequence = [
  {
    name: 'Liveness probe', operationId: 'ping', noAuth: true,
    tests: [expectStatus(200), "pm.test('says it is alive', () => pm.expect(pm.response.json()).to.eql({ code: 'OK', message: 'Alive' }));"],
  },
  {
    name: 'Storage status', operationId: 'getStatus',
    tests: [expectStatus(200), "pm.test('storage answered', () => pm.expect(pm.response.json().code).to.eql('OK'));"],
  },
  {
    name: 'Create a product team', operationId: 'createProductTeam',
    prerequest: ["pm.collectionVariables.set('teamAlias', pm.variables.replaceIn('{{$guid}}'));"],
    body: { ods_code: '{{odsCode}}', name: 'Postman team', keys: [{ key_type: 'product_team_id', key_value: '{{teamAlias}}' }] },
    tests: [
      expectStatus(201),
      'const team = pm.response.json();',
      "pm.test('is the team asked for', () => {",
      ...json([
        "pm.expect(team.name).to.eql('Postman team');",
        "pm.expect(team.ods_code).to.eql(pm.variables.get('odsCode'));",
        "pm.expect(team.keys[0].key_value).to.eql(pm.collectionVariables.get('teamAlias'));",
      ]),
      '});',
      "pm.collectionVariables.set('teamId', team.id);",
    ],
  },
  {
    name: 'Read the team by its id', operationId: 'getProductTeam', path: { product_team_id: '{{teamId}}' },
    tests: [
      expectStatus(200),
      "pm.test('is the team', () => pm.expect(pm.response.json().id).to.eql(pm.collectionVariables.get('teamId')));",
      "pm.test('has an ETag', () => pm.expect(pm.response.headers.get('ETag')).to.match(/^W\\/\"\\d+\"$/));",
      "pm.collectionVariables.set('teamEtag', pm.response.headers.get('ETag'));",
    ],
  },
  {
    name: 'Read the team by its alias', operationId: 'getProductTeam', path: { product_team_id: '{{teamAlias}}' },
    tests: [expectStatus(200), "pm.test('is the team', () => pm.expect(pm.response.json().id).to.eql(pm.collectionVariables.get('teamId')));"],
  },
  {
    name: "List the organisation's teams", operationId: 'listProductTeams', query: { organisation_code: '{{odsCode}}' },
    tests: [
      expectStatus(200),
      "pm.test('lists the team', () => pm.expect(pm.response.json().results.map(team => team.id)).to.include(pm.collectionVariables.get('teamId')));",
    ],
  },
  {
    name: 'Register a product', operationId: 'createProduct', path: { product_team_id: '{{teamId}}' }, body: { name: 'Postman product' },
    tests: [
      expectStatus(201),
      'const product = pm.response.json();',
      "pm.test('has a product id', () => pm.expect(product.id).to.match(/^P\\.[ACDEFGHJKLMNPRTUVWXY34679]{3}-[ACDEFGHJKLMNPRTUVWXY34679]{3}$/));",
      "pm.test('belongs to the team', () => pm.expect(product.cpm_product_team_id).to.eql(pm.collectionVariables.get('teamId')));",
      "pm.collectionVariables.set('productId', product.id);",
    ],
  },
  {
    name: 'Read the product', operationId: 'getProduct', path: { product_id: '{{productId}}' },
    tests: [
      expectStatus(200),
      "pm.test('is the product', () => pm.expect(pm.response.json()).to.include({ id: pm.collectionVariables.get('productId'), name: 'Postman product' }));",
    ],
  },
  {
    name: "Search the team's products", operationId: 'searchProducts', query: { product_team_id: '{{teamAlias}}' },
    tests: [
      expectStatus(200),
      'const found = pm.response.json().results.flatMap(org => org.product_teams).flatMap(team => team.products).map(product => product.id);',
      "pm.test('finds the product', () => pm.expect(found).to.eql([pm.collectionVariables.get('productId')]));",
    ],
  },
  {
    name: 'Rename the team with its ETag', operationId: 'renameProductTeam', path: { product_team_id: '{{teamId}}' },
    headers: { 'If-Match': '{{teamEtag}}' }, body: { name: 'Postman team renamed' },
    tests: [
      expectStatus(200),
      "pm.test('has the new name', () => pm.expect(pm.response.json().name).to.eql('Postman team renamed'));",
      "pm.test('has a new ETag', () => pm.expect(pm.response.headers.get('ETag')).to.not.eql(pm.collectionVariables.get('teamEtag')));",
    ],
  },
  {
    name: "Read the team's history", operationId: 'getProductTeamHistory', path: { product_team_id: '{{teamId}}' },
    tests: [
      expectStatus(200),
      "pm.test('records the create and the rename', () => pm.expect(pm.response.json().events.map(event => event.type)).to.eql(['ProductTeamCreated', 'ProductTeamUpdated']));",
    ],
  },
  {
    name: 'Delete the product', operationId: 'deleteProduct', path: { product_team_id: '{{teamId}}', product_id: '{{productId}}' },
    tests: [expectStatus(200), "pm.test('is deleted', () => pm.expect(pm.response.json().code).to.eql('RESOURCE_DELETED'));"],
  },
  {
    name: 'Delete the team', operationId: 'deleteProductTeam', path: { product_team_id: '{{teamId}}' },
    tests: [expectStatus(200), "pm.test('is deleted', () => pm.expect(pm.response.json().code).to.eql('RESOURCE_DELETED'));"],
  },
  {
    name: 'The deleted team is gone', operationId: 'getProductTeam', path: { product_team_id: '{{teamId}}' },
    tests: [expectStatus(404)],
  },
]

const document = JSON.parse(await readFile(join(root, 'docs', 'openapi.json'), 'utf8'))
const routes = new Map()
const summaries = new Map()
for (const [path, operations] of Object.entries(document.paths)) {
  for (const [method, operation] of Object.entries(operations)) {
    routes.set(`${method.toUpperCase()} ${path}`, operation.operationId)
    summaries.set(operation.operationId, operation.summary)
  }
}

const converted = await new Promise((resolve, reject) =>
  Converter.convert({ type: 'json', data: document }, { folderStrategy: 'Tags', requestNameSource: 'Fallback', parametersResolution: 'Schema' },
    (error, result) => (error || !result.result ? reject(error ?? new Error(result.reason)) : resolve(result.output[0].data))))

// Every converted request, by the operationId of its route.
const templates = new Map()
const collect = items => items.forEach(item => {
  if (item.item) {
    collect(item.item)
    return
  }

  const route = `${item.request.method} /${item.request.url.path.map(part => part.replace(/^:(.*)$/, '{$1}')).join('/')}`
  templates.set(routes.get(route), item.request)
})
collect(converted.item)

const item = step => {
  const template = templates.get(step.operationId)
  if (!template) {
    throw new Error(`No operation ${step.operationId} in docs/openapi.json`)
  }

  const pathValues = step.path ?? {}
  const request = {
    description: `${step.operationId}: ${summaries.get(step.operationId)}`,
    method: template.method,
    header: [
      ...template.header.filter(header => header.key === 'version').map(header => ({ key: header.key, value: '1', description: header.description })),
      ...Object.entries(step.headers ?? {}).map(([key, value]) => ({ key, value })),
      ...(step.body ? [{ key: 'Content-Type', value: 'application/json' }] : []),
    ],
    url: {
      raw: `{{baseUrl}}/${template.url.path.map(part => (part.startsWith(':') ? pathValues[part.slice(1)] : part)).join('/')}`
        + (step.query ? `?${Object.entries(step.query).map(([key, value]) => `${key}=${value}`).join('&')}` : ''),
      host: ['{{baseUrl}}'],
      path: template.url.path.map(part => (part.startsWith(':') ? pathValues[part.slice(1)] : part)),
      ...(step.query ? { query: Object.entries(step.query).map(([key, value]) => ({ key, value })) } : {}),
    },
    ...(step.noAuth ? { auth: { type: 'noauth' } } : {}),
    ...(step.body ? { body: { mode: 'raw', raw: JSON.stringify(step.body, null, 2), options: { raw: { language: 'json' } } } } : {}),
  }
  const unfilled = template.url.path.filter(part => part.startsWith(':') && !pathValues[part.slice(1)])
  if (unfilled.length > 0) {
    throw new Error(`${step.name}: no value for ${unfilled.join(', ')}`)
  }

  return {
    name: step.name,
    event: [
      ...(step.prerequest ? [{ listen: 'prerequest', script: { type: 'text/javascript', exec: step.prerequest } }] : []),
      { listen: 'test', script: { type: 'text/javascript', exec: step.tests } },
    ],
    request,
  }
}

const collection = {
  info: {
    name: document.info.title,
    description: 'A working sequence through the API, generated by tools/make-postman.mjs from docs/openapi.json: '
      + 'create a team, read it, register a product, search, rename, read the history, delete. '
      + 'Set baseUrl, apiKey and odsCode (an ODS code the deployment accepts) in the environment.',
    schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json',
  },
  auth: { type: 'apikey', apikey: [{ key: 'key', value: 'apikey' }, { key: 'value', value: '{{apiKey}}' }, { key: 'in', value: 'header' }] },
  item: sequence.map(item),
  variable: ['teamAlias', 'teamId', 'teamEtag', 'productId'].map(key => ({ key, value: '' })),
}

const environment = {
  name: 'CPM local',
  values: [
    { key: 'baseUrl', value: 'http://127.0.0.1:5080', type: 'default', enabled: true },
    { key: 'apiKey', value: 'local-dev-key', type: 'secret', enabled: true },
    { key: 'odsCode', value: 'F5H1R', type: 'default', enabled: true },
  ],
  _postman_variable_scope: 'environment',
}

await mkdir(outDir, { recursive: true })
await writeFile(join(outDir, 'cpm.postman_collection.json'), `${JSON.stringify(collection, null, 2)}\n`)
await writeFile(join(outDir, 'cpm.postman_environment.json'), `${JSON.stringify(environment, null, 2)}\n`)
console.log(`Wrote ${sequence.length} requests to ${join(outDir, 'cpm.postman_collection.json')} and the environment beside it`)
