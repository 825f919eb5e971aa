"""Source ``sampling``: laboratory sampling results (with disposal progress) and rapid tests."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

from msdw.generate import config as cfg
from msdw.generate.values import FileStyle, draw_count, expected_today, weighted
from msdw.generate.world import World

Row = dict[str, object]
FOOD_PROGRAMS = ("食品安全监督抽检", "食品安全风险监测")


class SamplingSim:
    source = "sampling"

    def __init__(self, world: World, start: dt.date, end: dt.date) -> None:
        self.w = world
        self.scale = world.profile.scale
        # ordinal -> samples whose disposal progresses that day: (sample state, new status)
        self._updates: dict[int, list[tuple[dict, str]]] = defaultdict(list)
        self._serial = 0
        self._test_serial = 0
        rnd = random.Random(f"stations:{world.seed}")
        self.stations = []
        for ci in range(len(world.counties)):
            for _ in range(max(3, int(8 * world.county_weights[ci]))):
                street = rnd.choice(world.pools.streets)
                self.stations.append((ci, f"{world.regions[ci].county}{street}{rnd.choice(cfg.RAPID_STATION_KINDS)}"))
        self.rapid_samples = sorted(cfg.RAPID_SAMPLES)

    # --- sampling results ----------------------------------------------------------------

    def _new_sample(self, d: dt.date, rng: random.Random, program: str, fail_rate: float) -> dict:
        w = self.w
        self._serial += 1
        report = d if rng.random() < 0.85 else d - dt.timedelta(days=rng.randint(1, 3))
        sampled = report - dt.timedelta(days=rng.randint(*cfg.SAMPLE_REPORT_DELAY_DAYS))
        i = w.pick_active(rng, sampled.toordinal(), opening_only=True)
        food = program in FOOD_PROGRAMS
        cats = w.ref.product_categories[program]
        cat = cats[rng.randrange(len(cats))]
        failed = rng.random() < fail_rate
        items = cfg.FAILED_ITEMS["food" if food else "other"]
        region = w.region_code(i)
        return {
            "sample_no": f"{cfg.SAMPLE_NO_PREFIX[program]}{sampled:%y}{region}{self._serial:07d}",
            "program": program,
            "task_level": weighted(rng, cfg.TASK_LEVEL_WEIGHTS),
            "product_category": cat,
            "sample_name": f"{cat}（{w.pools.trade(rng.getrandbits(30))}牌）",
            "stage": weighted(rng, cfg.STAGE_WEIGHTS["food" if food else "other"]),
            "sampled_uscc": "" if rng.random() < 0.05 else w.uscc(i),
            "sampled_entity_name": w.name(i),
            "region_code": region,
            "sampled_date": sampled,
            "report_date": report,
            "verdict": "不合格" if failed else "合格",
            "failed_items": "；".join(rng.sample(items, 1 if rng.random() < 0.8 else 2)) if failed else "",
            "lab": cfg.LABS[rng.randrange(len(cfg.LABS))],
            "disposal_status": "未启动" if failed else "",
            "disposal_date": None,
        }

    @staticmethod
    def _format(s: dict, st: FileStyle) -> dict[str, str]:
        r = dict(s)
        for k in ("sampled_date", "report_date", "disposal_date"):
            r[k] = st.date(s[k])
        return r

    def sampling_results(self, d: dt.date, rng: random.Random, st: FileStyle) -> list[dict[str, str]]:
        out: dict[str, dict] = {}
        for program, (yearly, fail_rate) in cfg.YEARLY_SAMPLES.items():
            for _ in range(draw_count(rng, expected_today(yearly * self.scale, d))):
                s = self._new_sample(d, rng, program, fail_rate)
                out[s["sample_no"]] = s
                if s["verdict"] == "不合格":
                    t = d + dt.timedelta(days=rng.randint(*cfg.DISPOSAL_START_DAYS))
                    self._updates[t.toordinal()].append((s, "处置中"))
        for s, status in self._updates.pop(d.toordinal(), ()):
            s["disposal_status"] = status
            if status == "处置中":
                t = d + dt.timedelta(days=rng.randint(*cfg.DISPOSAL_DONE_DAYS))
                self._updates[t.toordinal()].append((s, "已完成"))
            else:
                s["disposal_date"] = d - dt.timedelta(days=rng.randint(0, 2))
            out[s["sample_no"]] = s  # re-delivered: full current state, latest wins
        return [self._format(s, st) for s in out.values()]

    # --- rapid tests ----------------------------------------------------------------------

    def rapid_tests(self, d: dt.date, rng: random.Random, st: FileStyle) -> list[dict[str, str]]:
        w = self.w
        rows = []
        n = draw_count(rng, expected_today(cfg.YEARLY_RAPID_TESTS * self.scale, d, "market"))
        for _ in range(n):
            self._test_serial += 1
            ci, station = self.stations[rng.randrange(len(self.stations))]
            sample = self.rapid_samples[rng.randrange(len(self.rapid_samples))]
            items = cfg.RAPID_SAMPLES[sample]
            positive = rng.random() < cfg.RAPID_POSITIVE_RATE
            test_day = d if rng.random() < 0.9 else d - dt.timedelta(days=1)
            rows.append({
                "test_id": f"KJ{w.counties[ci]}{test_day:%Y%m%d}{self._test_serial:07d}",
                "station": station,
                "region_code": w.counties[ci],
                "sample_name": sample,
                "test_item": items[rng.randrange(len(items))],
                "test_date": st.date(test_day),
                "result": "阳性" if positive else "阴性",
                "disposal": cfg.RAPID_DISPOSALS[rng.randrange(len(cfg.RAPID_DISPOSALS))] if positive else "",
                "disposed_kg": st.amount(round(rng.uniform(0.5, 60), 1), 1) if positive else "",
            })
        return rows

    def day(self, d: dt.date, rng: random.Random, styles: dict[str, FileStyle]) -> dict[str, object]:
        return {
            "rapid_tests": self.rapid_tests(d, rng, styles["rapid_tests"]),
            "sampling_results": self.sampling_results(d, rng, styles["sampling_results"]),
        }
