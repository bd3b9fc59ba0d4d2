"""The skip rule of the integration scripts: exit 77 with the reason, unless DUNE_REQUIRE_KVM=1 (CI,
whose machines have /dev/kvm) makes a missing requirement a failure."""
import os


def skip(name, why):
    if os.environ.get("DUNE_REQUIRE_KVM") == "1":
        print(f"{name}: FAIL: {why} and DUNE_REQUIRE_KVM=1")
        return 1
    print(f"{name}: SKIP: {why}")
    return 77
