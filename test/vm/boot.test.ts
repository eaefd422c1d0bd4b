// The VM harness itself: one boot proves the initramfs, the 9p shares, the chroot, the result
// channel, module autoloading inside the guest, and that ra6mon.ko loads on the packaged kernel.
import t from 'tap'
import { need } from '../lib/requirements.js'
import { ensureModule, runVm, vmKernelRelease, vmNeeds } from './lib/vm.js'

t.test('the test VM boots the packaged kernel and runs a guest script in the host root', async t => {
  if (!need(t, vmNeeds())) return
  const release = vmKernelRelease()!
  ensureModule(release)
  const vm = await runVm({
    script: 'test/vm/guest/boot-smoke.sh', timeoutMs: 120_000,
    files: { 'hello.txt': 'from the host\n' },
  })
  t.equal(vm.failure, undefined, `VM ran to the end (console tail: ${vm.console.slice(-2000)})`)
  t.equal(vm.exitCode, 0, `guest script exit code (output: ${vm.scriptOutput.slice(-2000)})`)
  const byName = new Map(vm.results.map(r => [r.name, r]))
  for (const name of ['kernel-release', 'host-root-readonly', 'share-in-file', 'tmp-writable',
    'veth-autoload', 'module-loads', 'proc-net-ra6mon', 'module-unloads']) {
    const r = byName.get(name)
    t.ok(r?.ok, `guest check ${name}: ${r ? r.detail : 'missing'}`)
  }
  t.equal(byName.get('kernel-release')?.detail, release, 'the guest runs the release the module was built for')
  t.same(vm.dmesgProblems, [], 'no WARNING/BUG/Oops or ra6mon error in dmesg')
  t.comment(`VM wall time ${vm.wallMs} ms`)
})
