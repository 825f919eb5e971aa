"""Source ``equipment``: the in-use device registry, inspections and hazards.

The first delivery carries the whole registry (one row per device in use at
go-live); afterwards only registrations, changes and retirements. Each device
gets one 定期检验 a year shortly before its 下次检验日期; a registry row with
the new date follows the inspection a few days later. A few per cent of
devices are inspected late, and some new devices' 安装监督检验 arrives before
their registry row (a late-arriving dimension for the warehouse).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass

from msdw.generate import config as cfg
from msdw.generate.ids import make_uscc, org_body
from msdw.generate.values import FileStyle, add_workdays, draw_count, expected_today, is_workday, weighted
from msdw.generate.world import World

KIND_CHAR = {"1": "锅", "2": "容", "3": "梯", "4": "起", "5": "车", "6": "游", "8": "管", "9": "索"}
INSTITUTIONS = ("第一中学", "实验小学", "人民医院", "中医院", "社区卫生服务中心", "图书馆", "体育中心", "汽车客运站")


@dataclass
class Device:
    code: str
    category: str
    user_uscc: str
    user_name: str
    region: str
    cert: str
    registered: dt.date
    status: str
    next_due: dt.date | None
    key_supervision: bool
    pipeline_m: float | None


class EquipmentSim:
    source = "equipment"

    def __init__(self, world: World, start: dt.date, end: dt.date) -> None:
        self.w = world
        self.start = start
        self.scale = world.profile.scale
        cats = {k: v for k, v in cfg.DEVICE_CATEGORY_WEIGHTS.items() if k in world.ref.equipment_categories}
        self.cat_codes = list(cats)
        self.cat_w = list(cats.values())
        self.devices: list[Device] = []
        self.in_use: list[int] = []  # may hold retired devices; filtered when picked
        self._periodic: dict[int, list[int]] = defaultdict(list)  # ordinal -> devices to inspect
        self._registry_due: dict[int, list[int]] = defaultdict(list)  # ordinal -> registry rows to deliver
        self._hazard_updates: dict[int, list[dict]] = defaultdict(list)
        self._serial = 0
        self._insp_serial = 0
        self._hazard_serial = 0
        rng = random.Random(f"equipment-opening:{world.seed}")
        for _ in range(int(round(cfg.OPENING_DEVICES * self.scale))):
            reg = start - dt.timedelta(days=rng.randint(30, 20 * 365))
            i = self._new_device(rng, reg)
            due = start + dt.timedelta(days=rng.randint(1, 365))
            self.devices[i].next_due = due
            self._schedule_periodic(rng, i, due)
        self._opening = list(range(len(self.devices)))

    # --- devices ---------------------------------------------------------------------------

    def _new_device(self, rng: random.Random, registered: dt.date) -> int:
        w = self.w
        self._serial += 1
        s = self._serial
        cat = rng.choices(self.cat_codes, self.cat_w)[0]
        made = registered - dt.timedelta(days=rng.randint(30, 400))
        if cat.isdigit() and cat.startswith("3") and s < 10_000 and made.year < 2017:
            code = f"{cat}{w.counties[0]}{made:%Y%m}{s:04d}"  # legacy 20-digit 注册代码
        else:
            code = f"{cat}{(s // 100_000) + 31:02d}{rng.randrange(1000):03d}{made:%Y}{s % 100_000:05d}"
        key = rng.random() < cfg.SHARE_KEY_SUPERVISION
        if key and rng.random() < 0.5:  # school, hospital, station: not a SAMR registrant (12…)
            ci = w.pick_county(rng)
            inst = INSTITUTIONS[rng.randrange(len(INSTITUTIONS))]
            user_name = f"{w.regions[ci].place}市{w.regions[ci].county}{inst}"
            user_uscc = make_uscc("12", w.counties[ci], org_body(s, w.salt + 17, False))
            region = w.counties[ci]
        else:
            e = w.pick_active(rng, registered.toordinal(), 0, opening_only=True)
            user_name, user_uscc, region = w.name(e), w.uscc(e), w.region_code(e)
        row = w.ref.equipment_categories[cat]
        pipe = round(rng.uniform(50, 3000), 1) if row.get("is_pipeline") == "true" else None
        cert = f"{KIND_CHAR.get(cat[0], '特')}{cat[1]}{rng.randint(1, 9)}浙A{s:05d}({registered:%y})"
        self.devices.append(Device(code, cat, user_uscc, user_name, region, cert, registered, "在用",
                                   None, key, pipe))
        self.in_use.append(len(self.devices) - 1)
        return len(self.devices) - 1

    def _schedule_periodic(self, rng: random.Random, i: int, due: dt.date) -> None:
        if rng.random() < cfg.SHARE_OVERDUE:
            when = due + dt.timedelta(days=rng.randint(10, 120))  # overdue
        else:
            when = due - dt.timedelta(days=rng.randint(3, 30))
        while not is_workday(when):
            when += dt.timedelta(days=1)
        if when < self.start:
            when = self.start + dt.timedelta(days=rng.randint(0, 10))
        self._periodic[when.toordinal()].append(i)

    def _registry_row(self, i: int, st: FileStyle) -> dict[str, str]:
        dv = self.devices[i]
        return {
            "equipment_code": dv.code,
            "category_code": dv.category,
            "variety": self.w.ref.equipment_categories[dv.category]["category_name"],
            "user_uscc": dv.user_uscc,
            "user_name": dv.user_name,
            "region_code": dv.region,
            "use_certificate_no": dv.cert,
            "registered_date": st.date(dv.registered),
            "status": dv.status,
            "next_inspection_due": st.date(dv.next_due) if dv.status == "在用" else "",
            "key_supervision": st.boolean(dv.key_supervision),
            "pipeline_length_m": st.amount(dv.pipeline_m, 1) if dv.pipeline_m is not None else "",
        }

    # --- inspections and hazards -----------------------------------------------------------

    def _inspection(self, d: dt.date, rng: random.Random, i: int, kind: str, st: FileStyle,
                    hazards_out: list[dict]) -> tuple[dict[str, str], dt.date | None]:
        """One finished inspection (and the hazards it found); returns the row and the new 下次检验日期."""
        self._insp_serial += 1
        dv = self.devices[i]
        prefix = {"定期检验": "DJ", "监督检查": "JC", "安装监督检验": "AJ"}[kind]
        iid = f"{prefix}{d:%Y%m%d}{self._insp_serial:06d}"
        hazard_rate = cfg.SUPERVISION_HAZARD_RATE if kind == "监督检查" else cfg.PERIODIC_HAZARD_RATE
        n_haz = (1 if rng.random() < 0.8 else 2) if rng.random() < hazard_rate else 0
        conclusion = weighted(rng, cfg.INSPECTION_CONCLUSIONS)
        if n_haz and conclusion == "合格":
            conclusion = "整改后合格" if kind != "监督检查" else "合格"
        case = kind == "监督检查" and n_haz > 0 and rng.random() < 0.1
        fine = float(rng.choice((10_000, 30_000, 50_000, 100_000, 200_000))) if case else None
        next_due = None
        if kind in ("定期检验", "安装监督检验"):
            next_due = d + dt.timedelta(days=365)
        for _ in range(n_haz):
            self._hazard_serial += 1
            deadline = d + dt.timedelta(days=rng.randint(*cfg.HAZARD_RECTIFY_DEADLINE_DAYS))
            hz = {
                "hazard_id": f"YH{d:%Y%m%d}{self._hazard_serial:05d}",
                "inspection_id": iid,
                "equipment_code": dv.code,
                "severity": "重大" if rng.random() < 0.08 else "一般",
                "found_date": d,
                "rectify_deadline": deadline,
                "rectified_date": None,
            }
            hazards_out.append(hz)
            late = rng.random() < cfg.SHARE_HAZARD_RECTIFIED_LATE
            fixed = deadline + dt.timedelta(days=rng.randint(1, 30)) if late else \
                d + dt.timedelta(days=rng.randint(1, max(1, (deadline - d).days)))
            self._hazard_updates[fixed.toordinal()].append(hz)
        return {
            "inspection_id": iid,
            "equipment_code": dv.code,
            "inspection_type": kind,
            "inspection_date": st.date(d),
            "conclusion": conclusion,
            "hazards_found": str(n_haz),
            "directive_no": f"西监特指〔{d:%Y}〕{self._insp_serial:04d}号" if n_haz else "",
            "case_opened": st.boolean(case) if kind == "监督检查" else "",
            "fine_amount": st.amount(fine, 2) if fine else "",
            "next_inspection_due": st.date(next_due) if kind == "定期检验" else "",
        }, next_due

    @staticmethod
    def _hazard_row(h: dict, st: FileStyle) -> dict[str, str]:
        return {**h, "found_date": st.date(h["found_date"]), "rectify_deadline": st.date(h["rectify_deadline"]),
                "rectified_date": st.date(h["rectified_date"])}

    def _pick_in_use(self, rng: random.Random) -> int | None:
        for _ in range(50):
            i = self.in_use[rng.randrange(len(self.in_use))]
            if self.devices[i].status == "在用":
                return i
        return None

    # --- one day -----------------------------------------------------------------------------

    def day(self, d: dt.date, rng: random.Random, styles: dict[str, FileStyle]) -> dict[str, object]:
        st_r, st_i, st_h = styles["equipment_registry"], styles["equipment_inspections"], styles["equipment_hazards"]
        o = d.toordinal()
        registry: dict[str, dict[str, str]] = {}
        inspections: list[dict[str, str]] = []
        hazards: list[dict] = []
        if d == self.start:
            for i in self._opening:
                registry[self.devices[i].code] = self._registry_row(i, st_r)
        # periodic inspections due today; the registry update with the new date follows
        for i in self._periodic.pop(o, ()):
            dv = self.devices[i]
            if dv.status != "在用":
                continue
            row, next_due = self._inspection(d, rng, i, "定期检验", st_i, hazards)
            inspections.append(row)
            dv.next_due = next_due
            self._schedule_periodic(rng, i, next_due)
            lag = rng.randint(*cfg.REGISTRY_AFTER_INSPECTION_DAYS)
            self._registry_due[add_workdays(d, lag).toordinal() if lag else o].append(i)
        # new registrations (安装监督检验 first; some registry rows arrive days later)
        for _ in range(draw_count(rng, expected_today(cfg.YEARLY_NEW_DEVICES * self.scale, d))):
            i = self._new_device(rng, d)
            dv = self.devices[i]
            row, next_due = self._inspection(d, rng, i, "安装监督检验", st_i, hazards)
            dv.next_due = next_due
            inspections.append(row)
            self._schedule_periodic(rng, i, next_due)
            if rng.random() < cfg.SHARE_LATE_REGISTRY:
                self._registry_due[add_workdays(d, rng.randint(1, 5)).toordinal()].append(i)
            else:
                self._registry_due[o].append(i)
        # status changes
        for _ in range(draw_count(rng, expected_today(cfg.YEARLY_STATUS_CHANGES * self.scale, d))):
            i = self._pick_in_use(rng)
            if i is not None:
                self.devices[i].status = weighted(rng, {"停用": 60, "报废": 20, "注销": 20})
                self._registry_due[o].append(i)
        # supervision checks
        for _ in range(draw_count(rng, expected_today(cfg.YEARLY_SUPERVISION_CHECKS * self.scale, d))):
            i = self._pick_in_use(rng)
            if i is not None:
                inspections.append(self._inspection(d, rng, i, "监督检查", st_i, hazards)[0])
        for i in self._registry_due.pop(o, ()):
            registry[self.devices[i].code] = self._registry_row(i, st_r)
        hazard_rows = {h["hazard_id"]: self._hazard_row(h, st_h) for h in hazards}
        for h in self._hazard_updates.pop(o, ()):
            h["rectified_date"] = d
            hazard_rows[h["hazard_id"]] = self._hazard_row(h, st_h)
        return {
            "equipment_registry": list(registry.values()),
            "equipment_inspections": inspections,
            "equipment_hazards": list(hazard_rows.values()),
        }
