"""Pre-generated pools of Chinese names, trade names and street names.

Faker is far too slow to call per row (a province snapshot has millions of
rows), so pools are drawn once per seed and rows pick from them by integer
keys. Entity names are composed (区划 + 字号 + 行业 + 组织形式), which gives
millions of distinct, plausible names from a few thousand pool entries.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

from faker import Faker

PERSON_POOL = 20_000
TRADE_NAME_POOL = 6_000
STREET_POOL = 400

INDUSTRY_WORDS = ("科技", "网络科技", "信息技术", "贸易", "商贸", "餐饮管理", "建筑工程", "装饰工程", "文化传媒",
                  "电子商务", "咨询服务", "物业管理", "医药", "食品", "服装", "实业", "生物科技", "教育科技",
                  "供应链管理", "旅游", "健康管理", "机电设备", "环保科技", "广告", "汽车服务", "人力资源")
SHOP_WORDS = ("便利店", "小吃店", "面馆", "水果店", "服装店", "理发店", "五金店", "超市", "烟酒店", "餐馆",
              "早餐店", "奶茶店", "美容店", "修理部", "茶叶店", "建材店", "副食品店", "通讯器材店", "花店", "干洗店")
COOP_WORDS = ("茶叶", "蔬菜", "果蔬", "水产", "花卉苗木", "粮油", "畜禽", "食用菌", "竹笋", "杨梅")
ENTERPRISE_SUFFIX = {"45": "（个人独资）", "4531": "（普通合伙）", "4533": "（有限合伙）"}


@dataclass(frozen=True)
class Pools:
    persons: tuple[str, ...]
    trade_names: tuple[str, ...]
    streets: tuple[str, ...]

    def person(self, key: int) -> str:
        return self.persons[key % PERSON_POOL]

    def trade(self, key: int) -> str:
        return self.trade_names[(key // PERSON_POOL) % TRADE_NAME_POOL]

    def entity_name(self, key: int, entity_class: int, type_code: str, place: str, county: str) -> str:
        """Name of a market entity; ``place`` is the city (e.g. 杭州), ``county`` e.g. 西湖区."""
        trade = self.trade(key)
        if entity_class == 1:  # 个体工商户
            return f"{county}{trade}{SHOP_WORDS[key % len(SHOP_WORDS)]}"
        if entity_class == 2:
            return f"{place}{county}{trade}{COOP_WORDS[key % len(COOP_WORDS)]}专业合作社"
        word = INDUSTRY_WORDS[(key >> 3) % len(INDUSTRY_WORDS)]
        if type_code.startswith("45"):
            suffix = ENTERPRISE_SUFFIX.get(type_code, ENTERPRISE_SUFFIX["45"])
            return f"{place}{trade}{word}商行{suffix}"
        if type_code.startswith(("2", "43", "58", "68")):
            return f"{place}{trade}{word}有限公司{county}分公司"
        if type_code[:2] in ("12", "22"):
            return f"浙江{trade}{word}股份有限公司"
        return f"{place}{trade}{word}有限公司"


@cache
def pools(seed: int) -> Pools:
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rnd = random.Random(f"pools:{seed}")
    persons = tuple(fake.name() for _ in range(PERSON_POOL))
    chars = sorted({ch for n in persons for ch in n[1:]})
    trades: set[str] = set()
    while len(trades) < TRADE_NAME_POOL:
        trades.add(rnd.choice(chars) + rnd.choice(chars))
    streets = tuple(sorted({fake.street_name() for _ in range(STREET_POOL * 3)}))[:STREET_POOL]
    return Pools(persons=persons, trade_names=tuple(sorted(trades)), streets=streets)
