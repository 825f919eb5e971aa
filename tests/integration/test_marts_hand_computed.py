"""The monthly indicator marts against figures computed by hand.

A small handcrafted landing set (CSV text below, Chinese contract headers) is
delivered day by day, loaded with ``msdw.ingest.load_day`` into a fresh
warehouse and built with dbt (seeds → staging → warehouse → marts) for the
jurisdiction 330100 杭州市, whose counties 330106 西湖区 (W) and 330108 滨江区
(B) carry the data. Every expected figure is derived in the comments.

A second, generated data set (``msdw.generate``, crossing a year end) checks
the properties: totals = sum over counties, breakdowns add up to 全部, and the
wide marts equal indicator_monthly.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from msdw.dbt_runner import run_dbt
from msdw.ingest import load_day

pytestmark = [pytest.mark.slow, pytest.mark.db]

JURISDICTION = "330100"
W, B, T = "330106", "330108", JURISDICTION
ALL = ("全部", "全部")

# USCCs with valid check digits (python-stdnum): S* opening register, N* new, U* equipment users
S1, S2, S3, S4 = "91330106MA2B0001XN", "92330106MA2B0002XL", "91330108MA2B0003XM", "93330106MA2B0004XK"
N1, N2, N3, N4 = "91330106MA2B0005XT", "92330108MA2B0006XM", "91330106MA2B0007XW", "91330108MA2B0008XT"
U1, U2 = "91330106MA2B0009XY", "91330108MA2B0010X8"

SNAPSHOT = f"""统一社会信用代码,主体名称,主体类型代码,行业代码,住所行政区划,登记机关,注册资本（万元）,成立日期,办理渠道,登记状态,法定代表人
{S1},杭州一号科技有限公司,1130,I6513,330106,西湖区市场监督管理局,100,2019-03-01,窗口,存续,张一
{S2},西湖二号便利店,,F5292,330106,西湖区市场监督管理局,,2020-05-01,窗口,在业,张二
{S3},滨江三号有限公司,1130,I6513,330108,滨江区市场监督管理局,50,2018-01-01,窗口,吊销,张三
{S4},西湖四号农民专业合作社,9100,A0111,330106,西湖区市场监督管理局,10,2021-06-01,窗口,存续,张四
"""

EV_HEADER = "业务流水号,统一社会信用代码,主体名称,主体类型代码,行业代码,住所行政区划,登记机关,注册资本（万元）,成立日期,业务类型,核准日期,原主体类型代码,办理渠道,法定代表人"
EVENTS = {
    date(2023, 1, 3): f"""{EV_HEADER}
E1,{N1},杭州五号科技有限公司,1130,F5292,330106,西湖区市场监督管理局,100,2023-01-03,设立,2023-01-03,,全程电子化,李一
""",
    date(2023, 3, 15): f"""{EV_HEADER}
E2,{S2},西湖二号便利店,,F5292,330106,西湖区市场监督管理局,,2020-05-01,注销,2023-03-15,,窗口,张二
E3,{N2},滨江六号餐馆,,H6210,330108,滨江区市场监督管理局,,2023-03-14,设立,2023-03-14,,窗口,李二
""",
    date(2024, 1, 10): f"""{EV_HEADER}
E4,{N3},杭州七号科技有限公司,1130,I6513,330106,西湖区市场监督管理局,200,2024-01-10,设立,2024-01-10,,全程电子化,李三
E5,{N1},杭州五号科技有限公司,1130,F5292,330106,西湖区市场监督管理局,100,2023-01-03,简易注销,2024-01-10,,全程电子化,李一
E6,{S1},杭州一号科技有限公司,4540,I6513,330106,西湖区市场监督管理局,100,2019-03-01,变更,2024-01-09,9500,窗口,张一
E7,{S1},杭州一号科技有限公司,4540,I6513,330106,西湖区市场监督管理局,120,2019-03-01,变更,2024-01-10,,窗口,张一
""",
    date(2024, 3, 20): f"""{EV_HEADER}
E8,{S4},西湖四号农民专业合作社,9100,A0111,330106,西湖区市场监督管理局,10,2021-06-01,迁出,2024-03-20,,窗口,张四
E9,{N4},杭州八号研究院有限公司,1130,M7320,330108,滨江区市场监督管理局,300,2015-08-01,迁入,2024-03-20,,窗口,李四
E10,{N2},滨江六号餐馆,,H6210,330108,滨江区市场监督管理局,,2023-03-14,吊销,2024-03-20,,窗口,李二
""",
}
AR_HEADER = "统一社会信用代码,年报年度,报送日期,主体类型代码,住所行政区划"
ANNUAL_REPORTS = {
    date(2024, 1, 10): f"{AR_HEADER}\n{N2},2023,2024-01-10,,330108\n",
    date(2024, 3, 20): f"{AR_HEADER}\n{S1},2023,2024-03-20,4540,330106\n",
}

SMP_HEADER = "抽样单编号,抽检类型,任务来源,产品大类,样品名称,抽样环节,被抽样单位统一社会信用代码,被抽样单位名称,被抽样单位所在地,抽样日期,报告日期,检验结论,不合格项目,检验机构,核查处置状态,处置完成日期"
RT_HEADER = "检测编号,检测点,所在地,样品名称,检测项目,检测日期,检测结果,处置方式,处置数量（公斤）"
SAMPLING = {
    date(2024, 1, 5): {
        "sampling_results": f"""{SMP_HEADER}
SA1,食品安全监督抽检,市,粮食加工品,大米,流通,{S1},某超市,330106,2023-12-20,2024-01-04,合格,,市检验院,,
SA2,食品安全监督抽检,市,粮食加工品,面粉,流通,{S1},某超市,330106,2023-12-21,2024-01-05,不合格,霉菌,市检验院,处置中,
""",
        "rapid_tests": f"""{RT_HEADER}
RT1,文三路农贸市场,330106,青菜,有机磷和氨基甲酸酯类农药,2024-01-05,阴性,,0
RT2,文三路农贸市场,330106,韭菜,有机磷和氨基甲酸酯类农药,2024-01-05,阳性,销毁,12.5
""",
    },
    # SA1 corrected: the lab re-issued it as 不合格, disposal completed on 02-09
    date(2024, 2, 10): {
        "sampling_results": f"""{SMP_HEADER}
SA1,食品安全监督抽检,市,粮食加工品,大米,流通,{S1},某超市,330106,2023-12-20,2024-01-04,不合格,镉,市检验院,已完成,2024-02-09
SA3,食品安全监督抽检,县区,粮食加工品,米粉,餐饮,{N4},某餐馆,330108,2024-02-01,2024-02-08,合格,,市检验院,,
""",
        "rapid_tests": f"""{RT_HEADER}
RT3,滨江农贸市场,330108,猪肉,克伦特罗,2024-02-10,阳性,,0
""",
    },
}

REG_HEADER = "设备注册代码,设备类别代码,设备品种,使用单位统一社会信用代码,使用单位名称,设备所在地,使用登记证编号,登记日期,设备状态,下次检验日期,重点监管,压力管道长度（米）"
INS_HEADER = "检验检查编号,设备注册代码,检验检查类型,检验检查日期,结论,发现隐患数,安全监察指令书编号,是否立案,罚款金额（元）,下次检验日期"
HZ_HEADER = "隐患编号,检验检查编号,设备注册代码,隐患等级,发现日期,整改期限,整改完成日期"
EQUIPMENT = {
    date(2024, 1, 8): {
        "equipment_registry": f"""{REG_HEADER}
EQ1,3000,曳引驱动乘客电梯,{U1},西湖商场,330106,梯1,2020-05-01,在用,2024-06-30,是,
EQ2,3000,曳引驱动乘客电梯,{U1},西湖商场,330106,梯2,2024-01-08,在用,2024-01-20,否,
EQ3,8000,工业管道,{U2},滨江工厂,330108,管1,2019-01-01,在用,2025-01-01,否,150.5
EQ4,4000,桥式起重机,{U2},滨江工厂,330108,起1,2019-01-01,停用,,否,
""",
        "equipment_inspections": f"""{INS_HEADER}
INS1,EQ1,监督检查,2024-01-08,不合格,1,ZL001,是,5000,
INS2,EQ2,监督检查,2024-01-08,合格,0,,否,0,
""",
        "equipment_hazards": f"""{HZ_HEADER}
HZ1,INS1,EQ1,一般,2024-01-08,2024-01-31,
""",
    },
    date(2024, 2, 5): {
        "equipment_registry": f"""{REG_HEADER}
EQ2,3000,曳引驱动乘客电梯,{U1},西湖商场,330106,梯2,2024-01-08,在用,2025-01-20,否,
""",
        "equipment_inspections": f"""{INS_HEADER}
INS3,EQ2,定期检验,2024-02-05,合格,0,,否,0,2025-01-20
""",
        "equipment_hazards": f"""{HZ_HEADER}
HZ1,INS1,EQ1,一般,2024-01-08,2024-01-31,2024-02-03
""",
    },
}

CP_HEADER = "诉求编号,来源渠道,诉求类型,登记时间,受理日期,办结日期,办理状态,办理期限,商品服务大类,被诉主体统一社会信用代码,被诉主体名称,被诉主体所在地,涉及金额（元）,挽回经济损失（元）,处理结果,诉求人姓名,诉求人手机号,诉求人证件号码,诉求内容"
PHONE_A, PHONE_B = "13800138000", "13900139000"
COMPLAINTS = {
    date(2024, 9, 27): f"""{CP_HEADER}
C1,12315平台,投诉,2024-09-27 10:00,,,待受理,,家用电子电器类,{S1},杭州一号,330106,1000,0,,甲,{PHONE_A},,电视坏了
C2,12345热线,举报,2024-09-27 11:00,2024-09-27,,已受理,,家用电子电器类,{S1},杭州一号,330106,0,0,,甲,{PHONE_A},,无照经营
""",
    date(2024, 9, 28): f"""{CP_HEADER}
C3,12315平台,咨询,2024-09-28 09:00,,,不予受理,,家用电子电器类,{N4},杭州八号,330108,0,0,,乙,{PHONE_B},,问问
""",
    date(2024, 9, 29): f"""{CP_HEADER}
C1,12315平台,投诉,2024-09-27 10:00,2024-09-29,,已受理,,家用电子电器类,{S1},杭州一号,330106,1000,0,,甲,{PHONE_A},,电视坏了
""",
    date(2024, 10, 8): f"""{CP_HEADER}
C4,12315平台,投诉,2024-10-08 08:30,2024-10-08,,已受理,2024-10-15,生活、社会服务类,{N3},杭州七号,330106,200,0,,乙,{PHONE_B},,服务差
""",
    date(2024, 10, 12): f"""{CP_HEADER}
C1,12315平台,投诉,2024-09-27 10:00,2024-09-29,2024-10-12,已办结,,家用电子电器类,{S1},杭州一号,330106,1000,300,调解成功,甲,{PHONE_A},,电视坏了
""",
    date(2024, 10, 24): f"""{CP_HEADER}
C2,12345热线,举报,2024-09-27 11:00,2024-09-27,2024-10-24,已办结,,家用电子电器类,{S1},杭州一号,330106,0,0,立案,甲,{PHONE_A},,无照经营
""",
}


def _deliver(landing: Path, source: str, day: date, files: dict[str, str]) -> None:
    """Write one day's delivery: <landing>/<source>/<day>/<feed>.csv + manifest.json."""
    folder = landing / source / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for feed, text in files.items():
        data = text.encode("utf-8")
        (folder / f"{feed}.csv").write_bytes(data)
        rows = len([line for line in text.strip().splitlines()]) - 1
        entries.append({"name": f"{feed}.csv", "rows": rows, "sha256": hashlib.sha256(data).hexdigest()})
    manifest = {"source": source, "business_date": day.isoformat(), "files": entries}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def _deliveries() -> list[tuple[str, date, dict[str, str]]]:
    out: list[tuple[str, date, dict[str, str]]] = []
    for day in sorted(set(EVENTS) | set(ANNUAL_REPORTS)):
        files = {}
        if day == date(2023, 1, 3):
            files["entity_snapshot"] = SNAPSHOT
        if day in EVENTS:
            files["registration_events"] = EVENTS[day]
        if day in ANNUAL_REPORTS:
            files["annual_reports"] = ANNUAL_REPORTS[day]
        out.append(("registration", day, files))
    out += [("sampling", d, f) for d, f in SAMPLING.items()]
    out += [("equipment", d, f) for d, f in EQUIPMENT.items()]
    out += [("complaints", d, {"complaints": text}) for d, text in COMPLAINTS.items()]
    return out


Key = tuple[str, str, str, str, str]


@pytest.fixture(scope="module")
def marts(module_warehouse, tmp_path_factory) -> dict[Key, dict]:
    landing = tmp_path_factory.mktemp("landing")
    for source, day, files in _deliveries():
        _deliver(landing, source, day, files)
    for source, day, _files in _deliveries():
        for res in load_day(str(landing), source, day):
            assert res.rows_quarantined == 0, (source, day, res)
    target = tmp_path_factory.mktemp("dbt_target")
    run_dbt(["build", "--full-refresh"], vars={"jurisdiction": JURISDICTION, "msdw_run_id": "hand-test"},
            conninfo=module_warehouse, target_path=target)
    with psycopg.connect(module_warehouse) as conn:
        cur = conn.execute("""
            select indicator_code, period_month::text, region_code, breakdown_type, breakdown_value,
                   value, numerator, denominator, ytd_value, ytd_numerator, ytd_denominator,
                   same_period_last_year, yoy_growth_pct, as_of_date::text, published_run_id
            from marts_candidate.indicator_monthly""")
        cols = [c.name for c in cur.description]
        return {tuple(r[:5]): dict(zip(cols, r, strict=True)) for r in cur.fetchall()}


def _get(marts: dict, code: str, month: str, region: str, breakdown: tuple[str, str] = ALL) -> dict:
    key = (code, month, region, *breakdown)
    assert key in marts, f"no row {key}"
    return marts[key]


def check(marts: dict, code: str, month: str, region: str, value, ytd=None, *, breakdown=ALL,
          num=None, den=None, ytd_num=None, ytd_den=None, spl="skip", yoy="skip") -> None:
    """Assert one row; for rates pass num/den (value = num/den × 100, NULL on 0)."""
    r = _get(marts, code, month, region, breakdown)
    where = f"{code} {month} {region} {breakdown}"
    if num is not None:
        assert (r["numerator"], r["denominator"]) == (num, den), where
        expected = None if den == 0 else Decimal(num) * 100 / Decimal(den)
        assert (r["value"] is None) if expected is None else abs(r["value"] - expected) < Decimal("1e-12"), where
        if ytd_num is not None:
            assert (r["ytd_numerator"], r["ytd_denominator"]) == (ytd_num, ytd_den), where
    else:
        assert r["value"] == Decimal(str(value)), (where, r["value"])
        assert r["numerator"] is None and r["denominator"] is None, where
        if ytd is not None:
            assert r["ytd_value"] == Decimal(str(ytd)), (where, r["ytd_value"])
    if spl != "skip":
        assert r["same_period_last_year"] == (None if spl is None else Decimal(str(spl))), (where, r)
    if yoy != "skip":
        assert (r["yoy_growth_pct"] is None) if yoy is None else abs(r["yoy_growth_pct"] - Decimal(str(yoy))) < Decimal(
            "1e-12"), (where, r["yoy_growth_pct"])


def test_registration_flows(marts):
    # 2023-01: E1 设立 N1 in W (全程电子化)
    check(marts, "REG_NEW", "2023-01-01", W, 1, 1, spl=None, yoy=None)  # no 2022: unknown, not 0
    check(marts, "REG_NEW", "2023-01-01", T, 1, 1)
    check(marts, "REG_ONLINE_RATE", "2023-01-01", T, None, num=1, den=1)  # 1/1 × 100
    # 2023-02: nothing happened; zero denominator → NULL rate, never 0 or 100
    check(marts, "REG_NEW", "2023-02-01", T, 0, 1)
    check(marts, "REG_ONLINE_RATE", "2023-02-01", T, None, num=0, den=0, ytd_num=1, ytd_den=1)
    # 2023-03: E2 注销 S2 (W, 个体), E3 设立 N2 (B, 个体, 窗口)
    check(marts, "REG_NEW", "2023-03-01", B, 1, 1)
    check(marts, "REG_NEW", "2023-03-01", T, 1, 2)  # ytd 1 + 0 + 1
    check(marts, "REG_CANCEL", "2023-03-01", W, 1, 1)
    check(marts, "REG_NET_GROWTH", "2023-03-01", W, -1, 0)  # Jan +1, Mar −1
    check(marts, "REG_NET_GROWTH", "2023-03-01", B, 1, 1)
    check(marts, "REG_NET_GROWTH", "2023-03-01", T, 0, 1)
    check(marts, "REG_ONLINE_RATE", "2023-03-01", W, None, num=0, den=0)  # W had no 设立 in March
    check(marts, "REG_ONLINE_RATE", "2023-03-01", T, None, num=0, den=1, ytd_num=1, ytd_den=2)  # ytd 1/2, not avg
    # 2024-01: E4 设立 N3 (W online), E5 简易注销 N1, E6 个转企 + E7 变更 of S1 (one entity)
    check(marts, "REG_NEW", "2024-01-01", W, 1, 1, spl=1, yoy=0)  # (1 − 1) / 1
    check(marts, "REG_NEW", "2024-01-01", B, 0, 0, spl=0, yoy=None)  # last year 0 → NULL
    check(marts, "REG_NEW", "2024-01-01", T, 1, 1, breakdown=("industry_section", "I"))
    check(marts, "REG_NEW", "2024-01-01", T, 1, 1, breakdown=("entity_category", "企业"))
    check(marts, "REG_CANCEL", "2024-01-01", W, 1, 1)
    check(marts, "REG_CANCEL_SIMPLE", "2024-01-01", W, 1, 1)  # a subset of REG_CANCEL
    check(marts, "REG_CHANGE", "2024-01-01", W, 1, 1)  # 2 变更 events, 1 distinct entity
    check(marts, "REG_IND_TO_ENT", "2024-01-01", W, 1, 1)  # E6: 9500 (个体) → 4540 (个人独资企业)
    check(marts, "REG_NET_GROWTH", "2024-01-01", W, 0, 0)  # +1 − 1
    # 2024-03: E8 迁出 S4 (W, 农专), E9 迁入 N4 (B), E10 吊销 N2 (B, 个体)
    check(marts, "REG_MOVE_OUT", "2024-03-01", W, 1, 1)
    check(marts, "REG_MOVE_IN", "2024-03-01", B, 1, 1)
    check(marts, "REG_REVOKE", "2024-03-01", B, 1, 1, breakdown=("entity_category", "个体工商户"))
    check(marts, "REG_NET_GROWTH", "2024-03-01", T, -1, -1)  # W −1, B +1 − 1
    # ytd 2024-03 T: NEW 1 → last year's ytd March 2; (1 − 2) / 2 × 100 = −50
    check(marts, "REG_NEW", "2024-03-01", T, 0, 1, spl=2, yoy=-50)
    check(marts, "REG_CHANGE", "2024-03-01", T, 0, 1)
    check(marts, "REG_NEW", "2024-03-01", B, 0, 0, spl=1, yoy=-100)


def test_registration_stock(marts):
    # opening register: S1 存续, S2 在业, S4 存续 in W (S3 吊销 is not stock) → W 3, B 0
    check(marts, "REG_STOCK", "2023-01-01", W, 4, 4, spl=None, yoy=None)  # + N1 设立
    check(marts, "REG_STOCK", "2023-03-01", W, 3, 3)  # − S2 注销
    check(marts, "REG_STOCK", "2023-03-01", B, 1, 1)  # + N2 设立
    check(marts, "REG_STOCK", "2023-03-01", T, 4, 4)
    check(marts, "REG_STOCK", "2023-12-01", T, 4, 4)
    check(marts, "REG_STOCK", "2024-01-01", W, 3, 3)  # + N3 − N1
    # 2024-03: W − S4 迁出 = 2; B + N4 迁入 − N2 吊销 = 1; T 3. yoy: (3 − 4) / 4 = −25 %
    check(marts, "REG_STOCK", "2024-03-01", W, 2, 2, spl=3, yoy=Decimal(-100) / 3)
    check(marts, "REG_STOCK", "2024-03-01", B, 1, 1)
    check(marts, "REG_STOCK", "2024-03-01", T, 3, 3, spl=4, yoy=-25)
    # by category: 企业 S1 + N3 + N4 (N1 in and out) = 3; 个体 S2, N2 in and out = 0; 农专 S4 out = 0
    check(marts, "REG_STOCK", "2024-03-01", T, 3, breakdown=("entity_category", "企业"))
    check(marts, "REG_STOCK", "2024-03-01", T, 0, breakdown=("entity_category", "个体工商户"))
    check(marts, "REG_STOCK", "2024-03-01", T, 0, breakdown=("entity_category", "农民专业合作社"))
    # by 门类 of the events: I = S1 + N3 = 2, M = N4 = 1
    check(marts, "REG_STOCK", "2024-03-01", T, 2, breakdown=("industry_section", "I"))
    check(marts, "REG_STOCK", "2024-03-01", T, 1, breakdown=("industry_section", "M"))


def test_annual_report_rate(marts):
    # report year 2022 (months of 2023): existing on 2022-12-31 (the opening register stands for
    # the state before go-live): S1, S2, S4; S2 cancelled 2023-03-15 ≤ 2023-06-30 → due S1, S4 = 2;
    # no report for 2022 → 0 / 2
    check(marts, "AR_RATE", "2023-06-01", T, None, num=0, den=2, ytd_num=0, ytd_den=2)
    # report year 2023 (months of 2024): existing on 2023-12-31: S1, S4 (W), N1 (W), N2 (B);
    # N1 简易注销 2024-01-10 ≤ 2024-06-30 → not due; N2 吊销 (not cancelled) stays due → 3.
    # Reported: N2 on 2024-01-10, S1 on 2024-03-20.
    check(marts, "AR_RATE", "2024-01-01", T, None, num=1, den=3)
    check(marts, "AR_RATE", "2024-02-01", T, None, num=1, den=3)
    check(marts, "AR_RATE", "2024-03-01", T, None, num=2, den=3, ytd_num=2, ytd_den=3)  # stock-like: ytd = value
    check(marts, "AR_RATE", "2024-03-01", W, None, num=1, den=2)  # S1 of S1, S4
    check(marts, "AR_RATE", "2024-01-01", B, None, num=1, den=1)
    check(marts, "AR_RATE", "2024-03-01", T, None, num=1, den=1, breakdown=("entity_category", "个体工商户"))
    check(marts, "AR_RATE", "2024-03-01", T, None, num=0, den=1, breakdown=("entity_category", "农民专业合作社"))


def test_sampling(marts):
    # Jan: SA1 (corrected later to 不合格, disposal 已完成 02-09) and SA2 (不合格, 处置中), both W
    check(marts, "SMP_BATCHES", "2024-01-01", W, 2, 2, spl=None, yoy=None)
    check(marts, "SMP_QUALIFIED", "2024-01-01", W, 0, 0)  # SA1 counted once, in its latest state
    check(marts, "SMP_UNQUALIFIED", "2024-01-01", T, 2, 2)
    check(marts, "SMP_PASS_RATE", "2024-01-01", T, None, num=0, den=2)
    check(marts, "SMP_FAIL_RATE", "2024-01-01", T, None, num=2, den=2)
    check(marts, "SMP_DISPOSAL_RATE", "2024-01-01", T, None, num=1, den=2)  # SA1 done by as_of
    # Feb: SA3 (B, 合格, 县区, 餐饮); no unqualified → disposal rate NULL; ytd 1/2
    check(marts, "SMP_BATCHES", "2024-02-01", T, 1, 3)
    check(marts, "SMP_PASS_RATE", "2024-02-01", T, None, num=1, den=1, ytd_num=1, ytd_den=3)
    check(marts, "SMP_DISPOSAL_RATE", "2024-02-01", T, None, num=0, den=0, ytd_num=1, ytd_den=2)
    check(marts, "SMP_BATCHES", "2024-02-01", T, 1, 1, breakdown=("task_level", "县区"))
    check(marts, "SMP_BATCHES", "2024-02-01", T, 0, 2, breakdown=("task_level", "市"))
    check(marts, "SMP_BATCHES", "2024-02-01", T, 1, 1, breakdown=("stage", "餐饮"))
    check(marts, "SMP_BATCHES", "2024-01-01", T, 2, 2, breakdown=("product_category", "粮食加工品"))
    check(marts, "SMP_BATCHES", "2024-01-01", T, 2, 2, breakdown=("program", "食品安全监督抽检"))
    # rapid tests: Jan RT1 阴性, RT2 阳性 销毁 12.5 kg (W); Feb RT3 阳性 not disposed (B)
    check(marts, "RT_TESTS", "2024-01-01", T, 2, 2)
    check(marts, "RT_POSITIVE", "2024-01-01", W, 1, 1)
    check(marts, "RT_PASS_RATE", "2024-01-01", T, None, num=1, den=2)  # (2 − 1) / 2
    check(marts, "RT_DISPOSAL_RATE", "2024-01-01", T, None, num=1, den=1)
    check(marts, "RT_DISPOSED_KG", "2024-01-01", T, "12.5", "12.5")
    check(marts, "RT_PASS_RATE", "2024-02-01", T, None, num=0, den=1, ytd_num=1, ytd_den=3)
    check(marts, "RT_DISPOSAL_RATE", "2024-02-01", T, None, num=0, den=1, ytd_num=1, ytd_den=2)
    check(marts, "RT_POSITIVE", "2024-02-01", T, 1, 1, breakdown=("test_item", "克伦特罗"))
    assert _get(marts, "SMP_BATCHES", "2024-02-01", T)["as_of_date"] == "2024-02-10"


def test_equipment(marts):
    # Jan end: EQ1 (due 06-30, 重点), EQ2 (due 01-20: overdue) in W; EQ3 pipeline 150.5 m and
    # EQ4 停用 in B
    check(marts, "EQ_IN_USE", "2024-01-01", W, 2, 2)
    check(marts, "EQ_IN_USE", "2024-01-01", B, 0, 0)  # a pipeline is not a unit
    check(marts, "EQ_IN_USE", "2024-01-01", T, 1, breakdown=("key_supervision", "是"))
    check(marts, "EQ_IN_USE", "2024-01-01", T, 2, breakdown=("category_code", "3000"))
    check(marts, "EQ_PIPELINE_M", "2024-01-01", B, "150.5", "150.5")
    check(marts, "EQ_USERS", "2024-01-01", T, 2, 2)  # U1 (elevators), U2 (pipeline)
    check(marts, "EQ_NEW_REG", "2024-01-01", W, 1, 1)  # EQ2 registered 2024-01-08
    check(marts, "EQ_INSPECTION_RATE", "2024-01-01", T, None, num=1, den=2)
    check(marts, "EQ_OVERDUE", "2024-01-01", T, 1, 1)
    check(marts, "EQ_OVERDUE_RATE", "2024-01-01", T, None, num=1, den=2)
    # Feb is month-to-date (as_of 02-05): EQ2's new due date 2025-01-20 arrived → 2/2
    check(marts, "EQ_INSPECTION_RATE", "2024-02-01", T, None, num=2, den=2, ytd_num=2, ytd_den=2)
    check(marts, "EQ_OVERDUE", "2024-02-01", T, 0, 0)
    # 监督检查 INS1 (EQ1: 1 hazard, directive, case, 5000 元) and INS2 (EQ2), same user and day
    check(marts, "EQ_INSPECTIONS", "2024-01-01", T, 2, 2)
    check(marts, "EQ_UNITS_CHECKED", "2024-01-01", T, 1, 1)
    check(marts, "EQ_DIRECTIVES", "2024-01-01", T, 1, 1)
    check(marts, "EQ_CASES", "2024-01-01", T, 1, 1)
    check(marts, "EQ_FINES", "2024-01-01", T, 5000, 5000)
    check(marts, "EQ_INSPECTIONS", "2024-02-01", T, 0, 2)  # INS3 is a 定期检验
    # hazards: HZ1 found 01-08, rectified 02-03 (re-delivered)
    check(marts, "EQ_HAZARDS_FOUND", "2024-01-01", T, 1, 1)
    check(marts, "EQ_HAZARDS_FOUND", "2024-01-01", T, 1, 1, breakdown=("category_code", "3000"))
    check(marts, "EQ_HAZARDS_RECTIFIED", "2024-01-01", T, 1, 1)
    check(marts, "EQ_RECTIFY_RATE", "2024-01-01", T, None, num=1, den=1)
    check(marts, "EQ_RECTIFY_RATE", "2024-02-01", T, None, num=0, den=0, ytd_num=1, ytd_den=1)
    # 隐患率: Jan {EQ1, EQ2} inspected, EQ1 with a hazard → 1/2; Feb {EQ2} → 0/1;
    # ytd Feb: distinct {EQ1, EQ2} = 2 devices (not 2 + 1), 1 with a hazard
    check(marts, "EQ_HAZARD_RATE", "2024-01-01", T, None, num=1, den=2)
    check(marts, "EQ_HAZARD_RATE", "2024-02-01", T, None, num=0, den=1, ytd_num=1, ytd_den=2)


def test_complaints(marts):
    # 举报 C2 received Fri 2024-09-27: 15 working days on the official calendar (National Day
    # 10-01..10-07 off, make-up working days Sun 09-29 and Sat 10-12) end on 2024-10-23
    import chinese_calendar

    assert chinese_calendar.find_workday(15, date(2024, 9, 27)) == date(2024, 10, 23)
    assert chinese_calendar.is_workday(date(2024, 9, 29)) and chinese_calendar.is_workday(date(2024, 10, 12))
    # Sep: C1 (投诉, closed 10-12, due 45 wd after 受理 09-29 → on time), C2 (举报, closed 10-24 > 10-23: late);
    # C3 不予受理 is excluded
    check(marts, "CP_RECEIVED", "2024-09-01", T, 2, 2)
    check(marts, "CP_RECEIVED", "2024-09-01", B, 0, 0)
    check(marts, "CP_CLOSED", "2024-09-01", T, 2, 2)
    check(marts, "CP_CLOSE_RATE", "2024-09-01", T, None, num=2, den=2)
    check(marts, "CP_ONTIME", "2024-09-01", T, 1, 1)
    check(marts, "CP_ONTIME_RATE", "2024-09-01", T, None, num=1, den=2)
    check(marts, "CP_REPEAT_COMPLAINANTS", "2024-09-01", T, 1, 1)  # A filed C1 and C2
    check(marts, "CP_REPEAT_COMPLAINANTS", "2024-09-01", T, 0, 0, breakdown=("channel", "12315平台"))
    check(marts, "CP_RECEIVED", "2024-09-01", T, 1, 1, breakdown=("ticket_type", "举报"))
    check(marts, "CP_RECOVERED", "2024-09-01", T, 0, 0)
    # Oct: C4 (服务类, work-order due 10-15, open at as_of 10-24 → overdue); C1 closed in Oct: 300 元
    check(marts, "CP_RECEIVED", "2024-10-01", T, 1, 3)
    check(marts, "CP_CLOSE_RATE", "2024-10-01", T, None, num=0, den=1, ytd_num=2, ytd_den=3)
    check(marts, "CP_ONTIME_RATE", "2024-10-01", T, None, num=0, den=0, ytd_num=1, ytd_den=2)
    check(marts, "CP_OVERDUE_OPEN", "2024-10-01", T, 1, 1)
    check(marts, "CP_RECOVERED", "2024-10-01", T, 300, 300)
    check(marts, "CP_RECEIVED", "2024-10-01", T, 1, 1, breakdown=("category_group", "服务类"))
    check(marts, "CP_RECEIVED", "2024-10-01", T, 0, 2, breakdown=("category", "家用电子电器类"))
    check(marts, "CP_REPEAT_COMPLAINANTS", "2024-10-01", T, 0, 1)  # ytd: A (2), B (1: C3 excluded)
    assert _get(marts, "CP_RECEIVED", "2024-10-01", T)["as_of_date"] == "2024-10-24"


def test_grain_and_coverage(marts):
    codes = {k[0] for k in marts}
    assert len(codes) == 47
    months = sorted({k[1] for k in marts if k[0] == "REG_STOCK"})
    assert months[0] == "2023-01-01" and months[-1] == "2024-03-01" and len(months) == 15
    assert {k[2] for k in marts} >= {W, B, T}
    assert {r["published_run_id"] for r in marts.values()} == {"hand-test"}
    # REG_CHANGE has no industry_section breakdown; REG_NEW has
    assert not any(k[0] == "REG_CHANGE" and k[3] == "industry_section" for k in marts)
    assert any(k[0] == "REG_NEW" and k[3] == "industry_section" for k in marts)
