"""FreeBSD's mfiutil(8) and mrsasutil(8): `show volumes`, `show drives` and `show battery`.

    mfi0 Volumes:
      Id     Size    Level   Stripe  State   Cache   Name
     mfid0 (  931G) RAID-1      64K OPTIMAL Enabled  <OS>
    mfi0 Physical Drives:
     0 (  932G) UNCONFIGURED GOOD <MM1000GBKAL HPGC serial=9XG271GS> SATA E1:S0
    mfi0: Battery State:
                   Status: normal
          State of Health: good

The words are mfiutil's own (usr.sbin/mfiutil: mfi_ldstate, mfi_pdstate, show_volumes,
show_drives, show_battery); they are translated to the storcli words the checks judge, so a
FreeBSD controller gets the same `RAID VD`, `RAID PD` and `RAID battery` services. Volumes are
named by their disk device (`c0/mfid0`), drives by enclosure and slot (`c0/e1/s0`).
"""

from __future__ import annotations

import re

from watchkeeper.plugins.megaraid.model import Battery, MegaRaid, VirtualDrive, pd_item

_CONTROLLER = re.compile(r"^(mfi|mrsas)(\d{1,3})(?::)? (Volumes|Physical Drives|Battery State|No battery present)")
_VOLUME = re.compile(r"^\s*(\S+) \(\s*([^)]*)\) (\S+)\s+(\S+) (.+?)\s+(Disabled|Reads|Writes|Enabled)"
                     r"(?:\s+<(.*)>)?\s*$")
_DRIVE = re.compile(r"^\s*\d{1,5} \(\s*([^)]*)\) (.+?)(?: <(.*?)>(?: \S+)?)?"
                    r"\s+(?:E(\d{1,3})(?::S(\d{1,3}))?|S(\d{1,3}))$")
VD_WORDS = {"OPTIMAL": "Optl", "PARTIALLY DEGRADED": "Pdgd", "DEGRADED": "Dgrd", "OFFLINE": "OfLn"}
PD_WORDS = {"ONLINE": "Onln", "UNCONFIGURED GOOD": "UGood", "UNCONFIGURED BAD": "UBad", "HOT SPARE": "GHS",
            "OFFLINE": "Offln", "FAILED": "Failed", "REBUILD": "Rbld", "COPYBACK": "Cpybck", "JBOD": "JBOD"}
MAX_LINE = 512
"""mfiutil's lines are short; a longer one is damaged output, and the row patterns (which must
find the state before the cache column) would take quadratic time over it."""
BAD_BATTERY = ("PACK_MISSING", "VOLTAGE_LOW", "TEMPERATURE_HIGH", "LEARN_CYCLE_FAIL", "LEARN_CYCLE_TIMEOUT",
               "I2C_ERROR_DETECT")


def read(raid: MegaRaid, lines: list[str]) -> None:
    controller, part = "0", ""
    battery: Battery | None = None
    for line in lines:
        if len(line) > MAX_LINE:
            raid.errors.append(f"mfiutil printed a line of {len(line)} characters; it was skipped")
            continue
        head = _CONTROLLER.match(line)
        if head is not None:
            controller, part = head.group(2), head.group(3)
            if part == "Battery State":
                battery = raid.batteries.setdefault(f"c{controller}", Battery(f"c{controller}", "BBU"))
            continue
        if part == "Volumes":
            _volume(raid, controller, line)
        elif part == "Physical Drives":
            _drive(raid, controller, line)
        elif part == "Battery State" and battery is not None:
            _battery(battery, line)
        elif line.startswith(("mfiutil:", "mrsasutil:")):
            raid.errors.append(line)


def _volume(raid: MegaRaid, controller: str, line: str) -> None:
    found = _VOLUME.match(line)
    if found is None or found.group(1) == "Id":
        return
    device, size, level, _stripe, state, cache, name = found.groups()
    state = state.strip()
    item = f"c{controller}/{device}"
    raid.vds[item] = VirtualDrive(item, group="", raid=level, state=VD_WORDS.get(state, state), name=name or "",
                                  size=size.strip(), disk_cache="", write_policy="")
    # mfiutil tells whether the controller may cache writes, not whether it falls back right now
    raid.vds[item].write_policy = "WB" if cache in ("Enabled", "Writes") else "WT"


def _drive(raid: MegaRaid, controller: str, line: str) -> None:
    found = _DRIVE.match(line)
    if found is None:
        return
    size, state, inquiry, enclosure, slot, bare_slot = found.groups()
    state = state.strip().removesuffix(" (FOREIGN)")
    item = pd_item(controller, enclosure or "", slot or bare_slot or "0")
    pd = raid.pd(item)
    pd.state = PD_WORDS.get(state, state)
    pd.size = size.strip()
    pd.model = (inquiry or "").strip()


def _battery(battery: Battery, line: str) -> None:
    key, _, value = line.strip().partition(":")
    value = value.strip()
    if key == "Status":
        problems = [word for word in BAD_BATTERY if word in value]
        battery.state = ", ".join(problems) if problems else "Optimal"  # charging and learning are routine
        battery.replacement_required = battery.replacement_required or "PACK_MISSING" in problems
    elif key == "State of Health" and value == "bad":
        battery.replacement_required = True
    elif key == "Model":
        battery.model = value
