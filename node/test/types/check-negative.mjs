// Runs tsc on test/types/negative and checks it fails exactly where the file says:
// every line marked `// error TSxxxx` has that error, and there is no other error.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const file = join(here, 'negative', 'wrong-usage.ts')

const expected = new Map()
readFileSync(file, 'utf8')
  .split('\n')
  .forEach((line, i) => {
    const m = line.match(/\/\/ error (TS\d+)/)
    if (m) expected.set(i + 1, m[1])
  })

let output = ''
try {
  output = execFileSync(process.execPath, [tsc, '-p', join(here, 'negative'), '--pretty', 'false'], {
    encoding: 'utf8',
  })
  console.error('tsc accepted test/types/negative/wrong-usage.ts, which has type errors')
  process.exit(1)
} catch (error) {
  output = `${error.stdout ?? ''}${error.stderr ?? ''}`
}

const found = new Map()
for (const line of output.split('\n')) {
  const m = line.match(/wrong-usage\.ts\((\d+),\d+\): error (TS\d+)/)
  if (m) found.set(Number(m[1]), [...(found.get(Number(m[1])) ?? []), m[2]])
  else if (/error TS\d+/.test(line)) found.set(`other: ${line}`, ['?'])
}

const problems = []
for (const [line, code] of expected) {
  if (!(found.get(line) ?? []).includes(code)) problems.push(`line ${line}: expected ${code}, got ${found.get(line) ?? 'no error'}`)
}
for (const [line, codes] of found) {
  if (!expected.has(line)) problems.push(`unexpected error at ${line}: ${codes}`)
}
if (problems.length) {
  console.error(`tsc did not fail as expected on test/types/negative:\n  ${problems.join('\n  ')}\n${output}`)
  process.exit(1)
}
console.log(`tsc rejects test/types/negative (${expected.size} expected errors)`)
