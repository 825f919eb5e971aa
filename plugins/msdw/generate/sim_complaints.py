"""Source ``complaints``: 12315 / 12345 / 信访 tickets moving 待受理 → 已受理 → 已办结 over days.

Every state change re-delivers the ticket's full current state (the latest
delivery wins downstream). 办理期限 is on most work orders and empty on some
(derived downstream from the working-day limits); a few tickets close late.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

import stdnum.cn.ric

from msdw.generate import config as cfg
from msdw.generate.ids import make_ric
from msdw.generate.values import FileStyle, add_workdays, draw_count, expected_today, weighted
from msdw.generate.world import World

MOBILE_PREFIXES = ("130", "131", "133", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158",
                   "159", "166", "173", "177", "180", "181", "186", "187", "188", "189", "191", "199")
ITEMS = ("手机", "羽绒服", "预付卡", "空调", "电动自行车", "奶粉", "保健品", "装修服务", "健身卡", "外卖餐品",
         "二手车", "培训课程", "机票", "化妆品", "药品", "家具", "网购商品", "桶装水")
PROBLEMS = ("质量问题，商家拒绝退换", "商家虚假宣传", "价格欺诈，标价与结算价不符", "商家跑路，无法退费",
            "商品过期", "售后服务不到位", "计量不足", "无证经营", "合同条款不公平")


def _ric_ok(ric: str) -> bool:
    """stdnum's full validation (check digit, birth date, birth place valid in the birth year).

    stdnum 2.2 raises KeyError for some retired prefecture codes instead of returning False.
    """
    try:
        return stdnum.cn.ric.is_valid(ric)
    except KeyError:
        return False


class ComplaintsSim:
    source = "complaints"

    def __init__(self, world: World, start: dt.date, end: dt.date) -> None:
        self.w = world
        self.scale = world.profile.scale
        self._serial = 0
        self._progress: dict[int, list[dict]] = defaultdict(list)
        rng = random.Random(f"complainants:{world.seed}")
        self.frequent = [self._person(rng) for _ in range(max(10, int(30 * self.scale ** 0.5)))]

    def _person(self, rng: random.Random) -> tuple[str, str, str]:
        w = self.w
        name = w.pools.person(rng.getrandbits(30))
        phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 52))
        # the 地址码 must have existed at birth (stdnum checks it): retry with other places, then 330106
        for _ in range(6):
            region = w.counties[rng.randrange(len(w.counties))] if rng.random() < 0.7 else \
                w.elsewhere[rng.randrange(len(w.elsewhere))]
            ric = make_ric(region, f"{born:%Y%m%d}", rng.randrange(1000))
            if _ric_ok(ric):
                break
        else:  # 西湖区 exists since 1983
            born = dt.date(1984 + born.year % 18, born.month, min(born.day, 28))
            ric = make_ric("330106", f"{born:%Y%m%d}", rng.randrange(1000))
        return name, phone, ric

    def _new_ticket(self, d: dt.date, rng: random.Random) -> dict:
        w = self.w
        self._serial += 1
        channel = weighted(rng, cfg.CHANNEL_WEIGHTS)
        ttype = weighted(rng, cfg.TICKET_TYPE_WEIGHTS)
        received = d if rng.random() < 0.95 else d - dt.timedelta(days=1)
        secs = rng.randint(0, 86_399) if channel == "12315平台" else rng.randint(8 * 3600, 21 * 3600)
        person = self.frequent[rng.randrange(len(self.frequent))] if rng.random() < cfg.SHARE_REPEAT_COMPLAINANT \
            else self._person(rng)
        if rng.random() < 0.85:
            e = w.pick_active(rng, received.toordinal(), opening_only=True)
            resp_uscc, resp_name, region = w.uscc(e), w.name(e), w.region_code(e)
            if rng.random() < 0.1:
                resp_uscc = ""
        else:
            resp_uscc, resp_name = "", f"网店“{w.pools.trade(rng.getrandbits(30))}优选”"
            region = w.counties[w.pick_county(rng)]
        amount = round(rng.lognormvariate(6.2, 1.3), 2) if ttype == "投诉" or (ttype == "举报" and rng.random() < 0.3) else None
        item = ITEMS[rng.randrange(len(ITEMS))]
        content = f"本人于{received.month}月{received.day}日在{resp_name}购买{item}，{rng.choice(PROBLEMS)}。"
        if rng.random() < 0.3:
            content += f"联系电话{person[1]}，请尽快处理。"
        if rng.random() < 0.1:
            content += '\n补充：商家称"不退不换"，已保留聊天记录'
        cats = w.ref.complaint_categories
        return {
            "ticket_id": f"{'SQ' if channel != '12345热线' else 'RX'}{received:%Y%m%d}{self._serial:06d}",
            "channel": channel,
            "ticket_type": ttype,
            "received": received,
            "received_secs": secs,
            "accepted_date": None,
            "closed_date": None,
            "status": "待受理",
            "due_date": None,
            "category": cats[rng.randrange(len(cats))],
            "respondent_uscc": resp_uscc,
            "respondent_name": resp_name,
            "region_code": region,
            "amount_involved": amount,
            "recovered_amount": None,
            "outcome": "",
            "complainant_name": person[0],
            "complainant_phone": person[1],
            "complainant_id_no": person[2] if rng.random() < cfg.SHARE_ID_PRESENT else "",
            "content": content,
        }

    def _advance(self, t: dict, d: dt.date, rng: random.Random) -> None:
        """Move a ticket to its next state on day ``d`` and schedule the following one."""
        ttype = t["ticket_type"]
        if t["status"] == "待受理":
            if rng.random() < cfg.SHARE_REJECTED:
                t["status"], t["outcome"] = "不予受理", "不予受理"
                return
            t["status"], t["accepted_date"] = "已受理", d
            base = d if ttype == "投诉" else t["received"]
            due = add_workdays(base, cfg.DUE_WORKDAYS[ttype])
            t["due_date"] = None if rng.random() < cfg.SHARE_DUE_MISSING else due
            lo, hi = cfg.CLOSE_WORKDAYS[ttype]
            close = add_workdays(d, rng.randint(lo, hi))
            if rng.random() < cfg.SHARE_CLOSED_LATE:
                close = add_workdays(due, rng.randint(1, 10))
            elif close > due:
                close = due
            close = max(close, d + dt.timedelta(days=1))
            self._progress[close.toordinal()].append(t)
            return
        if ttype == "投诉" and rng.random() < cfg.SHARE_TERMINATED:
            t["status"], t["outcome"] = "终止", "调解不成功"
        else:
            t["status"] = "已办结"
            t["outcome"] = rng.choice(cfg.OUTCOMES[ttype])
        t["closed_date"] = d
        if t["outcome"] == "调解成功" and t["amount_involved"]:
            t["recovered_amount"] = round(t["amount_involved"] * rng.uniform(0.3, 1.0), 2)

    @staticmethod
    def _row(t: dict, st: FileStyle) -> dict[str, str]:
        r = {k: v for k, v in t.items() if k not in ("received", "received_secs")}
        r["received_at"] = st.timestamp(t["received"], t["received_secs"])
        for k in ("accepted_date", "closed_date", "due_date"):
            r[k] = st.date(t[k])
        r["amount_involved"] = st.amount(t["amount_involved"])
        r["recovered_amount"] = st.amount(t["recovered_amount"])
        return r

    def day(self, d: dt.date, rng: random.Random, styles: dict[str, FileStyle]) -> dict[str, object]:
        st = styles["complaints"]
        out: dict[str, dict] = {}
        for t in self._progress.pop(d.toordinal(), ()):
            self._advance(t, d, rng)
            out[t["ticket_id"]] = t
        for _ in range(draw_count(rng, expected_today(cfg.YEARLY_TICKETS * self.scale, d, "market"))):
            t = self._new_ticket(d, rng)
            out[t["ticket_id"]] = t
            accept = max(add_workdays(t["received"], rng.randint(*cfg.ACCEPT_WORKDAYS)), d + dt.timedelta(days=1))
            self._progress[accept.toordinal()].append(t)
        return {"complaints": [self._row(t, st) for t in out.values()]}
