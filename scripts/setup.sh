#!/usr/bin/env bash
# setup.sh: installs what is missing, builds, and runs the main job: a real
# program under the preload shim, then the cost of Dune mode measured side by side.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
scripts/build.sh

stats=$(mktemp -d)
trap 'rm -rf "$stats"' EXIT
echo "== python3 under libdune_preload.so: threads, a child process, hashing"
LD_PRELOAD=$PWD/build/preload/libdune_preload.so DUNE_STATS="$stats/%p.json" /usr/bin/python3 -c '
import hashlib, subprocess, threading
results = []
ts = [threading.Thread(target=lambda k=k: results.append(sum(i * i for i in range(100000 * k)))) for k in range(1, 4)]
for t in ts: t.start()
for t in ts: t.join()
print("threads:", sorted(results))
print("child:", subprocess.run(["uname", "-sr"], capture_output=True, text=True).stdout.strip())
print("sha256:", hashlib.sha256(b"dune" * 100000).hexdigest())
'
python3 - "$stats" <<'PY'
import glob, json, sys
reports = [json.loads(l) for f in glob.glob(sys.argv[1] + "/*.json") for l in open(f) if l.strip()]
if reports:
    print(f"in Dune mode: {len(reports)} process images, {sum(r['vm_exits'] for r in reports)} VM exits, "
          f"{sum(r['syscalls'] for r in reports)} syscalls forwarded or handled")
else:
    print("not in Dune mode (the line above says why)")
PY
echo
echo "== dunestat: what Dune mode costs, measured natively and in Dune mode side by side"
build/tools/dunestat/dunestat
