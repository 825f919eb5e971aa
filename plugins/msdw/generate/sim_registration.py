"""Source ``registration``: the opening register, daily registration business, annual reports."""

from __future__ import annotations

import datetime as dt
import random
from array import array
from collections.abc import Iterator

import numpy as np

from msdw.generate import config as cfg
from msdw.generate.ids import uscc_batch
from msdw.generate.values import FileStyle, draw_count, expected_today
from msdw.generate.world import (
    NO_TYPE,
    ST_CANCELLED,
    ST_MOVED_OUT,
    ST_OPERATING,
    ST_REVOKED,
    STATUS_TEXT,
    USCC_REFORM,
    World,
)

SNAPSHOT_BLOCK = 100_000

Row = dict[str, str]


class RegistrationSim:
    source = "registration"

    def __init__(self, world: World, start: dt.date, end: dt.date) -> None:
        self.w = world
        self.start = start
        self.end = end
        self.scale = world.profile.scale
        self._plans: dict[int, dict[int, array]] = {}  # business year -> ordinal -> entity indexes

    # --- snapshot ------------------------------------------------------------------------

    def snapshot_rows(self, st: FileStyle) -> Iterator[Row]:
        """The opening register, as it stood before the first day's events (streamed: millions of rows)."""
        w = self.w
        status = bytes(w.status[: w.n_opening])
        tcode = array("H", w.tcode[: w.n_opening])
        types = w.type_codes
        return self._snapshot(st, status, tcode, types)

    def _snapshot(self, st: FileStyle, status: bytes, tcode: array, types: list[str]) -> Iterator[Row]:
        w = self.w
        n = w.n_opening
        # copies: a live numpy view would forbid appending to the register's arrays
        cls_all = np.frombuffer(w.cls, dtype=np.uint8, count=n).copy()
        auth_all = np.frombuffer(w.auth, dtype=np.uint16, count=n).copy()
        est_all = np.frombuffer(w.est, dtype=np.int32, count=n).copy()
        for lo in range(0, n, SNAPSHOT_BLOCK):
            hi = min(n, lo + SNAPSHOT_BLOCK)
            codes = uscc_batch(cfg.USCC_CLASS_PREFIX, w.region_codes, cls_all[lo:hi], auth_all[lo:hi],
                               np.arange(lo, hi), est_all[lo:hi] < USCC_REFORM, w.salt)
            yield from self._snapshot_block(st, status, tcode, types, lo, hi, codes)

    def _snapshot_block(self, st: FileStyle, status: bytes, tcode: array, types: list[str], lo: int, hi: int,
                        codes: list[str]) -> Iterator[Row]:
        w = self.w
        channel_window = ("窗口", "全程电子化")
        entity_name = w.pools.entity_name
        regions = w.regions
        for i in range(lo, hi):
            t = "" if tcode[i] == NO_TYPE else types[tcode[i]]
            r = regions[w.reg[i]]
            yield {
                "uscc": codes[i - lo],
                "entity_name": entity_name(w.key[i], w.cls[i], t, r.place, r.county),
                "entity_type_code": t,
                "industry_code": w.industry(i),
                "region_code": w.region_code(i),
                "registration_authority": w.authority(i),
                "registered_capital": st.amount(w.capital(i), 2),
                "established_date": st.date_ord(w.est[i]),
                "channel": channel_window[w.online(i)],
                "registration_status": STATUS_TEXT[status[i]],
                "legal_representative": w.legal_rep(i),
            }

    # --- registration events --------------------------------------------------------------

    def _event(self, i: int, etype: str, approved: dt.date, st: FileStyle, seq: int,
               previous_type: str = "", delivered: dt.date | None = None) -> Row:
        w = self.w
        return {
            # the serial is per delivery day: the id carries that day, not the approval
            # date (a late approval would otherwise reuse an earlier day's serial)
            "event_id": f"DJ{(delivered or approved):%Y%m%d}{w.region_code(i)}{seq:05d}",
            "uscc": w.uscc(i),
            "entity_name": w.name(i),
            "entity_type_code": w.type_code(i),
            "industry_code": w.industry(i),
            "region_code": w.region_code(i),
            "registration_authority": w.authority(i),
            "registered_capital": st.amount(w.capital(i), 2),
            "established_date": st.date_ord(w.est[i]),
            "event_type": etype,
            "approved_date": st.date(approved),
            "previous_entity_type_code": previous_type,
            "channel": "全程电子化" if w.online(i) else "窗口",
            "legal_representative": w.legal_rep(i),
        }

    def events(self, d: dt.date, rng: random.Random, st: FileStyle) -> list[Row]:
        w = self.w
        rows: list[Row] = []
        seq = 0
        for etype, yearly in cfg.YEARLY_EVENTS.items():
            n = draw_count(rng, expected_today(yearly * self.scale, d))
            for _ in range(n):
                seq += 1
                approved = d
                if rng.random() < cfg.SHARE_APPROVED_LATE:
                    approved = d - dt.timedelta(days=rng.randint(1, 5))
                before = approved.toordinal()
                prev = ""
                if etype == "设立":
                    i = w.add_entity(rng, approved)
                elif etype == "迁入":
                    est = approved - dt.timedelta(days=rng.randint(200, 6000))
                    i = w.add_entity(rng, est, authority=len(w.counties) + rng.randrange(len(w.elsewhere)))
                elif etype == "简易注销":
                    i = w.pick_active(rng, before, 1 if rng.random() < 0.8 else None)
                    w.status[i] = ST_CANCELLED
                elif etype == "注销":
                    i = w.pick_active(rng, before)
                    w.status[i] = ST_CANCELLED
                elif etype == "迁出":
                    i = w.pick_active(rng, before)
                    w.status[i] = ST_MOVED_OUT
                elif etype == "吊销":
                    i = w.pick_active(rng, before, 0)
                    w.status[i] = ST_REVOKED
                else:  # 变更
                    x = rng.random()
                    if x < cfg.SHARE_INDIVIDUAL_TO_COMPANY:
                        # 个转企: the 个体工商户 becomes a 个人独资企业/公司 and keeps its code [M];
                        # 原主体类型代码 carries the bureau's local 个体 code (seeds/entity_types.csv)
                        i = w.pick_active(rng, before, 1)
                        prev = cfg.INDIVIDUAL_LOCAL_TYPE_CODE
                        w.tcode[i] = w.type_codes.index("4540") if "4540" in w.type_codes else w.ent_types[0]
                    elif x < cfg.SHARE_INDIVIDUAL_TO_COMPANY + cfg.SHARE_TYPE_CHANGE:
                        i = w.pick_active(rng, before, 0)
                        if w.tcode[i] != NO_TYPE:
                            prev = w.type_code(i)
                            w.tcode[i] = rng.choices(w.ent_types, w.ent_type_w)[0]
                            if w.type_code(i) == prev:
                                prev = ""
                    else:
                        i = w.pick_active(rng, before)
                    if w.status[i] < ST_OPERATING and rng.random() < 0.3:
                        w.status[i] = ST_OPERATING
                rows.append(self._event(i, etype, approved, st, seq, prev, delivered=d))
        rng.shuffle(rows)
        return rows

    # --- annual reports -------------------------------------------------------------------

    def _plan(self, year: int) -> dict[int, array]:
        """Filing dates of the annual reports due in ``year`` (report year ``year - 1``)."""
        w = self.w
        n = w.size
        g = np.random.default_rng([w.seed, year, 7])
        cls = np.frombuffer(w.cls, dtype=np.uint8, count=n)
        est = np.frombuffer(w.est, dtype=np.int32, count=n)
        status = np.frombuffer(w.status, dtype=np.uint8, count=n)
        due = (est <= dt.date(year - 1, 12, 31).toordinal()) & (status <= ST_OPERATING)
        rate = np.array(cfg.ANNUAL_REPORT_RATE)[cls]
        u = g.random(n)
        files = due & (u < rate)
        late = due & (u >= rate) & (u < rate + cfg.ANNUAL_REPORT_LATE_RATE)
        mw = np.array(cfg.ANNUAL_REPORT_MONTH_WEIGHTS, dtype=float)
        month = g.choice(6, size=n, p=mw / mw.sum()) + 1
        month[late] = g.integers(7, 13, size=int(late.sum()))
        month_start = np.array([dt.date(year, m, 1).toordinal() for m in range(1, 13)] +
                               [dt.date(year + 1, 1, 1).toordinal()])
        length = month_start[month] - month_start[month - 1]
        day = month_start[month - 1] + (g.random(n) * length).astype(np.int64)
        idx = np.nonzero(files | late)[0]
        days = day[idx]
        lo, hi = self.start.toordinal(), self.end.toordinal()
        keep = (days >= lo) & (days <= hi)
        idx, days = idx[keep], days[keep]
        order = np.argsort(days, kind="stable")
        idx, days = idx[order], days[order]
        plan: dict[int, array] = {}
        if len(days):
            uniq, first = np.unique(days, return_index=True)
            bounds = list(first[1:]) + [len(days)]
            for o, a, b in zip(uniq.tolist(), first.tolist(), bounds, strict=True):
                plan[o] = array("i", idx[a:b].astype(np.int32).tobytes())
        return plan

    def annual_reports(self, d: dt.date, st: FileStyle) -> list[Row]:
        w = self.w
        if d.year not in self._plans:
            self._plans = {d.year: self._plan(d.year)}
        todays = self._plans[d.year].get(d.toordinal(), ())
        year = str(d.year - 1)
        sub = st.date(d)
        rows = []
        for i in todays:
            if w.status[i] > ST_OPERATING:
                continue  # cancelled before it filed
            rows.append({
                "uscc": w.uscc(i),
                "report_year": year,
                "submitted_date": sub,
                "entity_type_code": w.type_code(i),
                "region_code": w.region_code(i),
            })
        return rows

    # --- one day ---------------------------------------------------------------------------

    def day(self, d: dt.date, rng: random.Random, styles: dict[str, FileStyle]) -> dict[str, object]:
        out: dict[str, object] = {}
        if d == self.start:
            out["entity_snapshot"] = self.snapshot_rows(styles["entity_snapshot"])
        out["registration_events"] = self.events(d, rng, styles["registration_events"])
        out["annual_reports"] = self.annual_reports(d, styles["annual_reports"])
        return out
