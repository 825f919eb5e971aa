"""The simulated jurisdiction shared by the four sources: regions, name pools, the entity register.

The register is held in compact typed arrays (a province holds ~6 million
entities); an entity's USCC and name are derived from its index and a few
small attributes on demand instead of being stored as strings.
"""

from __future__ import annotations

import datetime as dt
import random
from array import array
from dataclasses import dataclass

import numpy as np

from msdw.generate import config as cfg
from msdw.generate.ids import make_uscc, org_body
from msdw.generate.names import Pools, pools
from msdw.generate.reference import Reference, load_reference

# register status codes
ST_EXISTING, ST_OPERATING, ST_REVOKED, ST_CANCELLED, ST_MOVED_OUT = range(5)
STATUS_TEXT = ("存续", "在业", "吊销", "注销", "迁出")
NO_TYPE = 0xFFFF
USCC_REFORM = dt.date(2015, 10, 1).toordinal()  # earlier entities carry an old numeric org code


class ProfileError(ValueError):
    """Unknown profile, or a profile whose regions are not in the regions seed."""


@dataclass
class Region:
    code: str
    place: str  # city short name for entity names, e.g. 杭州
    county: str  # e.g. 西湖区
    authority: str  # 杭州市西湖区市场监督管理局


class World:
    """Regions, pools and the entity register for one (profile, seed)."""

    def __init__(self, profile: str, seed: int, start: dt.date, ref: Reference | None = None) -> None:
        if profile not in cfg.PROFILES:
            raise ProfileError(f"unknown profile {profile!r}; known: {sorted(cfg.PROFILES)}")
        self.profile = cfg.PROFILES[profile]
        self.seed = seed
        self.start = start
        self.ref = ref or load_reference()
        self.pools: Pools = pools(seed)
        counties = self.profile.counties or self.ref.active_counties(self.profile.jurisdiction[:2])
        missing = [c for c in counties if c not in self.ref.regions]
        if missing or not counties:
            raise ProfileError(f"profile {profile}: regions {missing or '(none)'} not in regions.csv")
        self.counties: tuple[str, ...] = tuple(counties)
        # other counties (for the authority of entities moved in from elsewhere)
        others = [c for c in self.ref.active_counties("33") if c not in set(counties)]
        self.elsewhere: tuple[str, ...] = tuple(others) + cfg.OUTSIDE_REGIONS
        self.region_codes: list[str] = list(self.counties) + list(self.elsewhere)
        self.regions: list[Region] = [self._region(c) for c in self.region_codes]
        rnd = random.Random(f"world:{seed}:{profile}")
        # uneven county sizes (urban districts are bigger)
        self.county_weights = [0.5 + 2.0 * rnd.random() for _ in self.counties]
        self.county_cum = list(np.cumsum(self.county_weights) / sum(self.county_weights))
        self.salt = seed % 100_003
        self._init_codes()
        self._init_register()

    # --- regions -------------------------------------------------------------------------

    def _region(self, code: str) -> Region:
        r = self.ref.regions.get(code)
        if r is None:  # outside the seed: a neighbouring province
            return Region(code, "外地", "", "外省市场监督管理局")
        pref = self.ref.regions.get(r.get("prefecture_code") or "", {})
        place = (pref.get("region_name") or r["region_name"]).removesuffix("市")
        county = r["region_name"] if r["level"] == "county" else ""
        return Region(code, place, county, self.ref.full_region_name(code) + "市场监督管理局")

    def pick_county(self, rng: random.Random) -> int:
        """Index of a county of the jurisdiction (weighted by size)."""
        x = rng.random()
        for i, c in enumerate(self.county_cum):
            if x <= c:
                return i
        return len(self.counties) - 1

    # --- reference codes -----------------------------------------------------------------

    def _init_codes(self) -> None:
        known = set(self.ref.entity_types)
        ent = {k: v for k, v in cfg.ENTERPRISE_TYPE_WEIGHTS.items() if k in known}
        coop = {k: v for k, v in cfg.COOP_TYPE_WEIGHTS.items() if k in known}
        self.type_codes: list[str] = sorted(set(ent) | set(coop))
        self.ent_types = [self.type_codes.index(k) for k in ent]
        self.ent_type_w = list(ent.values())
        self.coop_types = [self.type_codes.index(k) for k in coop]
        self.coop_type_w = list(coop.values())
        self.industries: list[str] = list(self.ref.industry_codes)
        shops = [i for i, c in enumerate(self.industries) if c[:2] in ("51", "52", "61", "62", "80", "81")]
        farm = [i for i, c in enumerate(self.industries) if c[:2] in ("01", "02", "03", "04", "05")]
        self.ind_by_class = (list(range(len(self.industries))), shops or [0], farm or [0])

    # --- the entity register -----------------------------------------------------------

    def _init_register(self) -> None:
        n = int(round(cfg.OPENING_ENTITIES * self.profile.scale))
        g = np.random.default_rng([self.seed, 20_260_101])
        cls = g.choice(3, size=n, p=np.array(cfg.ENTITY_CLASS_SHARE) / sum(cfg.ENTITY_CLASS_SHARE))
        tcode = np.full(n, NO_TYPE, dtype=np.uint16)
        ent_p = np.array(self.ent_type_w) / sum(self.ent_type_w)
        coop_p = np.array(self.coop_type_w) / sum(self.coop_type_w)
        m0, m2 = cls == 0, cls == 2
        tcode[m0] = np.array(self.ent_types, dtype=np.uint16)[g.choice(len(self.ent_types), size=int(m0.sum()), p=ent_p)]
        tcode[m2] = np.array(self.coop_types, dtype=np.uint16)[g.choice(len(self.coop_types), size=int(m2.sum()), p=coop_p)]
        county = np.searchsorted(np.array(self.county_cum), g.random(n)).clip(0, len(self.counties) - 1)
        # a few entities registered by another authority (moved in earlier)
        auth = county.copy()
        moved = g.random(n) < 0.03
        auth[moved] = len(self.counties) + g.integers(0, len(self.elsewhere), size=int(moved.sum()))
        ind = np.empty(n, dtype=np.uint16)
        for c in range(3):
            m = cls == c
            pool = np.array(self.ind_by_class[c], dtype=np.uint16)
            ind[m] = pool[g.integers(0, len(pool), size=int(m.sum()))]
        # ages: mostly young entities (个体 turn over fast), capped at 1990
        age_days = (g.exponential(6.0 * 365, size=n) + 1).astype(np.int64)
        oldest = self.start.toordinal() - dt.date(1990, 1, 1).toordinal()
        age_days = np.minimum(age_days, oldest)
        est = (self.start.toordinal() - age_days).astype(np.int32)
        st_p = np.array(list(cfg.OPENING_STATUS_SHARE.values()))
        status = g.choice(5, size=n, p=st_p / st_p.sum()).astype(np.uint8)
        key = g.integers(0, 2**32, size=n, dtype=np.uint64).astype(np.uint32)
        cap = np.full(n, np.nan, dtype=np.float32)
        for c, (mu, sigma) in cfg.CAPITAL_LOGNORMAL.items():
            m = cls == c
            cap[m] = np.round(g.lognormal(mu, sigma, size=int(m.sum())), 0)
        m1 = (cls == 1) & (g.random(n) < cfg.SHARE_INDIVIDUAL_WITH_CAPITAL)
        cap[m1] = np.round(g.lognormal(1.5, 0.8, size=int(m1.sum())), 1)

        self.n_opening = n
        self.cls = bytearray(cls.astype(np.uint8).tobytes())
        self.tcode = array("H", tcode.tobytes())
        self.auth = array("H", auth.astype(np.uint16).tobytes())
        self.reg = array("H", county.astype(np.uint16).tobytes())
        self.ind = array("H", ind.tobytes())
        self.est = array("i", est.tobytes())
        self.status = bytearray(status.tobytes())
        self.key = array("I", key.tobytes())
        self.cap = array("f", cap.tobytes())

    @property
    def size(self) -> int:
        return len(self.cls)

    def add_entity(self, rng: random.Random, est: dt.date, entity_class: int | None = None,
                   authority: int | None = None) -> int:
        """Append a new entity to the register; returns its index."""
        c = entity_class if entity_class is not None else rng.choices((0, 1, 2), cfg.ENTITY_CLASS_SHARE)[0]
        if c == 0:
            t = rng.choices(self.ent_types, self.ent_type_w)[0]
        elif c == 2:
            t = rng.choices(self.coop_types, self.coop_type_w)[0]
        else:
            t = NO_TYPE
        county = self.pick_county(rng)
        pool = self.ind_by_class[c]
        if c in cfg.CAPITAL_LOGNORMAL:
            mu, sigma = cfg.CAPITAL_LOGNORMAL[c]
            cap = round(rng.lognormvariate(mu, sigma))
        else:
            cap = round(rng.lognormvariate(1.5, 0.8), 1) if rng.random() < cfg.SHARE_INDIVIDUAL_WITH_CAPITAL else float("nan")
        self.cls.append(c)
        self.tcode.append(t)
        self.auth.append(county if authority is None else authority)
        self.reg.append(county)
        self.ind.append(pool[rng.randrange(len(pool))])
        self.est.append(est.toordinal())
        self.status.append(ST_EXISTING)
        self.key.append(rng.getrandbits(32))
        self.cap.append(cap)
        return len(self.cls) - 1

    def is_active(self, i: int) -> bool:
        return self.status[i] <= ST_OPERATING

    def pick_active(self, rng: random.Random, before: int, entity_class: int | None = None,
                    opening_only: bool = False) -> int:
        """A random entity still in business, established before ordinal ``before``."""
        n = self.n_opening if opening_only else len(self.cls)
        for _ in range(200):
            i = rng.randrange(n)
            if self.status[i] <= ST_OPERATING and self.est[i] < before and (
                entity_class is None or self.cls[i] == entity_class
            ):
                return i
        return rng.randrange(n)

    def uscc(self, i: int) -> str:
        return make_uscc(
            cfg.USCC_CLASS_PREFIX[self.cls[i]],
            self.region_codes[self.auth[i]],
            org_body(i, self.salt, self.est[i] < USCC_REFORM),
        )

    def type_code(self, i: int) -> str:
        t = self.tcode[i]
        return "" if t == NO_TYPE else self.type_codes[t]

    def name(self, i: int) -> str:
        r = self.regions[self.reg[i]]
        return self.pools.entity_name(self.key[i], self.cls[i], self.type_code(i), r.place, r.county)

    def legal_rep(self, i: int) -> str:
        return self.pools.person(self.key[i] >> 7)

    def region_code(self, i: int) -> str:
        return self.region_codes[self.reg[i]]

    def authority(self, i: int) -> str:
        return self.regions[self.reg[i]].authority

    def industry(self, i: int) -> str:
        return self.industries[self.ind[i]]

    def capital(self, i: int) -> float | None:
        c = self.cap[i]
        return None if c != c else float(c)  # NaN: not declared

    def online(self, i: int) -> bool:
        return (self.key[i] % 1000) < cfg.SHARE_ONLINE * 1000
