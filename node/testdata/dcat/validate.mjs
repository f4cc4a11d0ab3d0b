// SPDX-License-Identifier: EUPL-1.2
//
// Validates a DCAT-AP catalogue in JSON-LD against the DCAT-AP 3.0.1 SHACL
// shapes (core constraints and class ranges) with rdf-validate-shacl.
// Usage: node validate.mjs CATALOGUE.jsonld
// Exit 0 when it conforms; otherwise the violations go to standard output
// and the exit status is 1.
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import rdf from '@zazuko/env'
import jsonld from 'jsonld'
import N3 from 'n3'
import SHACLValidator from 'rdf-validate-shacl'

const here = path.dirname(fileURLToPath(import.meta.url))

function parseTurtle (text) {
  return new N3.Parser({ format: 'text/turtle' }).parse(text)
}

async function main () {
  const file = process.argv[2]
  if (!file) {
    console.error('usage: node validate.mjs CATALOGUE.jsonld')
    process.exit(2)
  }
  const shapes = rdf.dataset()
  for (const f of ['dcat-ap-3.0.1-shapes.ttl', 'dcat-ap-3.0.1-range.ttl']) {
    for (const q of parseTurtle(await readFile(path.join(here, f), 'utf8'))) shapes.add(q)
  }
  const doc = JSON.parse(await readFile(file, 'utf8'))
  // The catalogue's context is inline: no document is fetched.
  const nquads = await jsonld.toRDF(doc, {
    format: 'application/n-quads',
    documentLoader: (url) => { throw new Error('no remote contexts: ' + url) }
  })
  const data = rdf.dataset()
  for (const q of new N3.Parser({ format: 'N-Quads' }).parse(nquads)) data.add(q)
  if (data.size === 0) {
    console.log('the catalogue holds no triples')
    process.exit(1)
  }
  const validator = new SHACLValidator(shapes, { factory: rdf })
  const report = await validator.validate(data)
  const datasets = [...data.match(null, rdf.ns.rdf.type, rdf.namedNode('http://www.w3.org/ns/dcat#Dataset'))].length
  if (report.conforms) {
    console.log(`conforms: ${data.size} triples, ${datasets} datasets`)
    return
  }
  for (const r of report.results) {
    console.log(`${r.severity?.value}: focus ${r.focusNode?.value} path ${r.path?.value}: ${r.message.map(m => m.value).join('; ')} (${r.sourceShape?.value})`)
  }
  process.exit(1)
}

main().catch((err) => { console.error(err); process.exit(2) })
