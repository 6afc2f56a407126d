"""What a generated case is made of: its kind, its citizen's language, its rating, and the
words of its text and public side, each with its weight (bot.case_generator_life draws them)."""

from __future__ import annotations

from itertools import accumulate

KINDS = (("complaint", 40), ("report", 30), ("inquiry", 22), ("suggestion", 8))
LANGUAGES = (("zh_Hans", 86), ("zh_Hant", 5), ("en", 6), ("ru", 3))
SOLVED = (("solved", 70), ("partly", 18), ("not_solved", 12))
SATISFACTION = {
    "solved": (("satisfied", 80), ("basic", 17), ("unsatisfied", 3)),
    "partly": (("satisfied", 25), ("basic", 50), ("unsatisfied", 25)),
    "not_solved": (("satisfied", 3), ("basic", 17), ("unsatisfied", 80)),
}
# Domains that follow the seasons: heating in the cold months, noise and rubbish in summer.
PLACES = (
    "东区和平街道幸福小区",
    "西区光明街道锦绣家园",
    "东区新华街道春晖苑",
    "西区金桥街道金桥花园",
    "人民路与解放路交叉口",
    "中山大道128号",
    "滨江路沿线",
    "火车站广场附近",
    "市第一中学门口",
    "建设路菜市场",
    "城南工业园",
    "东区新华街道南湖社区",
    "西区光明街道阳光城三期",
)
SINCE = (
    "已经三天了",
    "持续一周多了",
    "从昨天晚上开始",
    "反映过好几次",
    "这个月第二次了",
    "已经半个多月",
    "今天早上发现",
)
IMPACT = (
    "严重影响居民正常生活",
    "老人和孩子很不方便",
    "存在安全隐患",
    "周边商户也有意见",
    "晚上休息不好",
    "多次联系物业没有结果",
)
ASK = (
    "希望有关部门尽快处理。",
    "请尽快派人来看看。",
    "请相关部门给个说法。",
    "希望能给予答复。",
    "恳请领导重视。",
    "谢谢！",
)
ANSWERS = (
    "经核实，已安排工作人员现场处理，问题已解决。",
    "已联系相关单位，预计三个工作日内完成整改。",
    "您反映的问题已转交属地街道跟进，感谢您的监督。",
    "经调查，相关情况已依法处理，特此回复。",
)
# The public board: a share of answered cases published (the citizen agreed), with the texts
# staff would approve: the place down to its district, the answer as written.
PUBLISHED_SHARE = 0.12
# Of the unsatisfied ratings, the share its department disputes (差评复核), and how the disputes
# are decided: a few still wait for a supervisor.
DISPUTED_SHARE = 0.3
DISPUTE_REASONS = ("against_law", "repeat_answered", "outside_remit", "unreasonable")
DISPUTE_OUTCOMES = (("granted", 45), ("refused", 45), ("pending", 10))
PUBLIC_PLACES = ("东区和平街道", "西区光明街道", "东区新华街道", "西区金桥街道", "城南", "滨江路")
ENGLISH_PUBLIC = (
    ("Streetlight out near the school", "A streetlight near the school gate was out at night."),
    ("Radiators cold in an apartment block", "Residents reported cold radiators for three days."),
    ("Noise from a construction site", "Night-time construction noise kept residents awake."),
)
NAMES = ("王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "Anna", "Oleg", "Mary")


def cumulative(pairs: tuple[tuple[str, float], ...]) -> tuple[list[str], list[float]]:
    """Names and their cumulative weights, for bisect."""
    return [name for name, _ in pairs], list(accumulate(weight for _, weight in pairs))
