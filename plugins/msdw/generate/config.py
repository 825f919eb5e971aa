"""Calibration of the sample-data generator: every volume, share and delay in one place.

The figures reproduce the orders of magnitude of a real district bureau
(杭州市西湖区-sized), taken from the bureau's seed reports and the domain notes
(sections of ``docs/contracts/domain.md`` named in the comments; [V] verified against a
published source, [M] an assumption to confirm with the bureau).
A ``city`` profile is about 10x, a ``province`` profile about 100x the district.
The simulation modules read nothing but this module and the dbt seeds, so a
bureau can re-calibrate the demo here without touching code.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- profiles -------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    name: str
    jurisdiction: str  # GB/T 2260 code of the bureau (total row of the marts)
    counties: tuple[str, ...] | None  # explicit county list; None = every active county under the prefix
    scale: float  # multiplier on the district's yearly volumes


PROFILES: dict[str, Profile] = {
    "district": Profile("district", "330106", ("330106",), 1.0),
    # 杭州市 with its 13 current counties (2021 boundary reform; regions.csv marks the retired codes inactive)
    "city": Profile(
        "city",
        "330100",
        ("330102", "330105", "330106", "330108", "330109", "330110", "330111",
         "330112", "330113", "330114", "330122", "330127", "330182"),
        10.0,
    ),
    # 浙江省: every active county-level code under 33 in regions.csv (~90)
    "province": Profile("province", "330000", None, 100.0),
}

# Codes of the USCC/ID alphabet used for defects and for entities moved in from elsewhere
OUTSIDE_REGIONS = ("110105", "310115", "320106", "440305", "420106", "510107")

# --- registration (domain.md#entity-types, #calibration: 2022 seed report) ----------------------------------

# 实有市场主体 at go-live: the 2022 year-end stock was 56,854 (h.7) [V seed]
OPENING_ENTITIES = 56_000
# 企业 / 个体工商户 / 农民专业合作社 mix of the stock and of new registrations [M, typical district]
ENTITY_CLASS_SHARE = (0.35, 0.63, 0.02)
# USCC positions 1-2 per class: 91 企业, 92 个体, 93 农专 (domain.md#uscc) [V]
USCC_CLASS_PREFIX = ("91", "92", "93")
# status of opening-register rows: the register also holds revoked/cancelled/moved-out entities
OPENING_STATUS_SHARE = {"存续": 0.58, "在业": 0.375, "吊销": 0.03, "注销": 0.01, "迁出": 0.005}
# yearly events (h.7: 新设 7838, 注销 4641 of which 简易注销 1026, 迁入 888, 迁出 795) [V seed]
YEARLY_EVENTS = {
    "设立": 7_800,
    "注销": 3_600,  # ordinary 注销; with 简易注销 ≈ 4,600 cancellations
    "简易注销": 1_000,
    "迁入": 900,
    "迁出": 800,
    "吊销": 150,  # [M] revocations of long-dormant companies
    "变更": 3_000,  # [M] name/address/capital/type changes
}
SHARE_INDIVIDUAL_TO_COMPANY = 0.05  # 个转企 among 变更 [M]
# the bureau's local code for 个体工商户 in 原主体类型代码 (seeds/entity_types.csv; domain.md#entity-types [M])
INDIVIDUAL_LOCAL_TYPE_CODE = "9500"
SHARE_TYPE_CHANGE = 0.04  # enterprise type changes among 变更 (e.g. 4540 个人独资 → 1151) [M]
SHARE_ONLINE = 0.90  # 全程电子化 share of registrations (浙江 "网上办") [M]
SHARE_APPROVED_LATE = 0.05  # rows approved 1-5 days before the business date (late extract)
# enterprise type codes drawn for new/opening 企业 (weights) — must exist in entity_types.csv
ENTERPRISE_TYPE_WEIGHTS = {
    "1130": 40, "1151": 22, "1152": 4, "1153": 3, "1110": 0.5, "1140": 0.5, "1190": 1,
    "1220": 1, "2130": 4, "2151": 1, "4540": 8, "4531": 2, "4533": 3, "4300": 2,
    "5110": 0.5, "5150": 1, "6150": 0.5, "3200": 0.5,
}
COOP_TYPE_WEIGHTS = {"9100": 95, "9200": 5}
# registered capital in 万元 (lognormal parameters per class); 个体 usually without capital
CAPITAL_LOGNORMAL = {0: (4.6, 1.3), 2: (3.0, 1.0)}  # median ~100 万元 for 企业, ~20 for 农专
SHARE_INDIVIDUAL_WITH_CAPITAL = 0.3  # 个体: 资金数额 often not declared

# --- annual reports (domain.md#annual-reports) ----------------------------------------------------
# filing window 1 Jan - 30 Jun of Y+1, ~90% of due entities (2021年度企业年报率 93.63%) [V]
ANNUAL_REPORT_RATE = (0.935, 0.88, 0.90)  # per class 企业/个体/农专
ANNUAL_REPORT_LATE_RATE = 0.01  # 补报 after 30 Jun [V: late filing allowed]
# relative filing intensity by month Jan..Jun: the June rush [M, typical curve]
ANNUAL_REPORT_MONTH_WEIGHTS = (4, 4, 8, 12, 20, 52)

# --- sampling (domain.md#sampling, #calibration) --------------------------------------------------------
# yearly samples and failure rate per programme (2022: 2687 food samples, 99 不合格 = 3.68%) [V seed]
YEARLY_SAMPLES = {
    "食品安全监督抽检": (2_500, 0.037),
    "食品安全风险监测": (200, 0.03),
    "产品质量监督抽查": (50, 0.14),  # 2023: 43/50 合格 [V seed]
    "药品抽检": (60, 0.02),
    "化妆品抽检": (20, 0.05),
    "医疗器械抽检": (15, 0.05),
}
SAMPLE_NO_PREFIX = {
    "食品安全监督抽检": "DC", "食品安全风险监测": "FX", "产品质量监督抽查": "CC",
    "药品抽检": "YP", "化妆品抽检": "HZ", "医疗器械抽检": "QX",
}
TASK_LEVEL_WEIGHTS = {"国家": 10, "省": 25, "市": 30, "县区": 35}
STAGE_WEIGHTS = {
    "food": {"生产": 10, "流通": 55, "餐饮": 25, "网络": 10},
    "other": {"生产": 30, "流通": 50, "网络": 10, "使用": 10},
}
SAMPLE_REPORT_DELAY_DAYS = (8, 30)  # 抽样日期 → 报告日期 (20 工作日 lab limit, f.3) [V]
# 不合格 disposal progress (核查处置 within 90 days, f.3 [M]): days after the report
DISPOSAL_START_DAYS = (2, 15)  # 未启动 → 处置中
DISPOSAL_DONE_DAYS = (10, 75)  # 处置中 → 已完成
LABS = ("杭州市食品药品检验研究院", "浙江省食品药品检验研究院", "浙江公正检验中心有限公司",
        "浙江省产品质量安全科学研究院", "杭州市质量技术监督检测院", "浙江省医疗器械检验研究院")
FAILED_ITEMS = {
    "food": ("菌落总数", "大肠菌群", "过氧化值（以脂肪计）", "酸价（以脂肪计）", "毒死蜱", "克百威",
             "腐霉利", "恩诺沙星", "氧氟沙星", "镉（以Cd计）", "铅（以Pb计）", "二氧化硫残留量",
             "苯甲酸及其钠盐（以苯甲酸计）", "甜蜜素（以环己基氨基磺酸计）", "霉菌", "铝的残留量（干样品，以Al计）"),
    "other": ("标志和说明", "导体电阻", "绝缘厚度", "含量测定", "微生物限度", "菌落总数", "硫含量",
              "总养分", "可迁移元素", "耐压性能"),
}
# 快检 (h.4): 2023: 17,017 tests, 99.38% negative [V seed]
YEARLY_RAPID_TESTS = 17_000
RAPID_POSITIVE_RATE = 0.006
RAPID_SAMPLES = {  # sample → test items
    "青菜": ("有机磷和氨基甲酸酯类农药",), "韭菜": ("有机磷和氨基甲酸酯类农药", "腐霉利"),
    "芹菜": ("有机磷和氨基甲酸酯类农药", "毒死蜱"), "豇豆": ("有机磷和氨基甲酸酯类农药", "灭蝇胺"),
    "菠菜": ("有机磷和氨基甲酸酯类农药",), "猪肉": ("克伦特罗", "莱克多巴胺"), "牛肉": ("克伦特罗",),
    "鲈鱼": ("孔雀石绿", "氯霉素"), "基围虾": ("甲醛", "氯霉素"), "鸡蛋": ("氟苯尼考",),
    "豆芽": ("6-苄基腺嘌呤", "亚硫酸盐"), "水发鱿鱼": ("甲醛",),
}
RAPID_DISPOSALS = ("销毁", "下架", "送检复核", "暂停销售")
RAPID_STATION_KINDS = ("农贸市场快检室", "超市快检点", "街道快检站", "快检车")

# --- special equipment (domain.md#equipment, #calibration: 2021 total 1,235 devices) ----------------------------
OPENING_DEVICES = 1_200
DEVICE_CATEGORY_WEIGHTS = {  # codes of equipment_categories.csv (品种/类别 level)
    "3110": 60, "3120": 5, "3310": 5, "3320": 0.5, "3430": 1.5,  # 电梯 ~72%
    "1200": 2, "1100": 1,  # 锅炉
    "2150": 6, "2170": 5, "2130": 1,  # 压力容器
    "4100": 3, "4860": 2, "4D00": 2,  # 起重机械
    "5110": 5,  # 叉车
    "6100": 0.3, "6A00": 0.2,  # 游乐设施
    "8210": 0.6, "8310": 0.4,  # 压力管道 (length in metres)
}
YEARLY_NEW_DEVICES = 300  # 2023: 260 使用登记, 343 安装告知 [V seed]
YEARLY_STATUS_CHANGES = 50  # 停用/报废/注销 [M]
YEARLY_SUPERVISION_CHECKS = 200  # 2022: 196 家次 [V seed]
SHARE_OVERDUE = 0.03  # devices inspected late / not at all (2023 隐患率 1.59%) [V seed]
INSPECTION_CONCLUSIONS = {"合格": 90, "复检合格": 5, "整改后合格": 4, "不合格": 1}
SUPERVISION_HAZARD_RATE = 0.15  # 监督检查 with hazards (36 隐患 / 196 家次) [V seed]
PERIODIC_HAZARD_RATE = 0.005
REGISTRY_AFTER_INSPECTION_DAYS = (0, 5)  # registry update follows the inspection
SHARE_LATE_REGISTRY = 0.3  # new devices whose 安装监督检验 arrives before the registry row
HAZARD_RECTIFY_DEADLINE_DAYS = (10, 30)
SHARE_HAZARD_RECTIFIED_LATE = 0.15
SHARE_KEY_SUPERVISION = 0.2  # schools, hospitals, stations, malls

# --- complaints (domain.md#complaints, #calibration: 2022: 4,039 received, 3,629 办结) ---------------------------------
YEARLY_TICKETS = 4_000
CHANNEL_WEIGHTS = {"12315平台": 60, "12345热线": 30, "信访": 2, "来人来信": 5, "转办函": 3}
TICKET_TYPE_WEIGHTS = {"投诉": 65, "举报": 20, "咨询": 12, "建议": 3}
ACCEPT_WORKDAYS = (1, 7)  # 受理 within 7 工作日 (g.2) [V]
CLOSE_WORKDAYS = {"投诉": (3, 40), "举报": (5, 25), "咨询": (1, 6), "建议": (2, 12)}
DUE_WORKDAYS = {"投诉": 45, "举报": 15, "咨询": 7, "建议": 15}  # as ticket_time_limits.csv
SHARE_DUE_MISSING = 0.12  # 办理期限 empty: derived downstream
SHARE_CLOSED_LATE = 0.03
SHARE_REJECTED = 0.04  # 不予受理
SHARE_TERMINATED = 0.02  # 终止
SHARE_REPEAT_COMPLAINANT = 0.12  # tickets from a small pool of frequent complainants (职业索赔)
SHARE_ID_PRESENT = 0.6
OUTCOMES = {"投诉": ("调解成功", "调解成功", "调解成功", "调解不成功"), "举报": ("立案", "不予立案", "不予立案"),
            "咨询": ("已答复",), "建议": ("已答复",)}

# --- value formats (docs/contracts/delivery.md#file-format) -------------------------------------------------------
DATE_STYLE_WEIGHTS = {"iso": 85, "slash": 7, "compact": 5, "zh": 3}
SHARE_THOUSANDS_FILES = 0.2  # files whose amounts carry thousands separators
SHARE_SHUFFLED_HEADER = 0.25  # files whose columns are not in contract order
SHARE_PLAIN_CSV_WHEN_MIXED = 0.7  # when several formats are requested, most files stay plain csv
