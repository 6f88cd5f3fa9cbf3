// A configured plugin's `import 'netkit'` needs the loader's resolve hook (a thread of its own)
// only when Node would not find this netkit from the plugin's folder by itself.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { findsNetkit } from '../../src/dissect/plugin-source.js'
import { root, tempDir } from '../helpers/cli.js'

test('findsNetkit: only a node_modules/netkit that is this package, outside another package named netkit', (t) => {
  const { dir, cleanup } = tempDir('netkit-finds-')
  t.after(cleanup)
  const plugin = (name: string): string => {
    mkdirSync(join(dir, name, 'lib'), { recursive: true })
    writeFileSync(join(dir, name, 'package.json'), JSON.stringify({ name: `netkit-dissector-${name}`, type: 'module' }))
    return join(dir, name, 'lib', 'index.js')
  }
  const loose = plugin('loose')
  assert.equal(findsNetkit(loose, root), false, 'no node_modules/netkit up the tree')
  const linked = plugin('linked')
  mkdirSync(join(dir, 'linked', 'node_modules'))
  symlinkSync(root, join(dir, 'linked', 'node_modules', 'netkit'))
  assert.equal(findsNetkit(linked, root), true, 'linked as `netkit dissectors new` links it')
  const other = plugin('other')
  mkdirSync(join(dir, 'other', 'node_modules', 'netkit'), { recursive: true })
  assert.equal(findsNetkit(other, root), false, 'another netkit')
  const named = plugin('named')
  writeFileSync(join(dir, 'named', 'package.json'), JSON.stringify({ name: 'netkit', exports: './lib/index.js' }))
  mkdirSync(join(dir, 'named', 'node_modules'))
  symlinkSync(root, join(dir, 'named', 'node_modules', 'netkit'))
  assert.equal(findsNetkit(named, root), false, 'inside a package named netkit: its self-reference wins')
})
