"""What the demo fund-investing group talks about: recurring questions, answers, chit-chat.

Each topic is asked several times in different words, by different members, on different
days; the experts' answer to a topic is the same every time (per language), so a small
model trained on most variants can answer the held-out ones. No real people appear here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["CHAT_EN", "CHAT_ZH", "GREETINGS_EN", "GREETINGS_ZH", "TOPICS", "WELCOMES", "Topic"]


@dataclass(frozen=True)
class Topic:
    """A question that keeps coming back, its paraphrases and the experts' answer."""

    key: str
    zh: tuple[str, ...]
    en: tuple[str, ...]
    answer_zh: str
    answer_en: str


_FIRST_ASKED: tuple[Topic, ...] = (
    Topic(
        "csi300_dca",
        (
            "沪深300指数基金现在适合开始定投吗？",
            "想问下，现在这个点位上车沪深300定投晚不晚？",
            "新手第一只定投选沪深300可以吗",
        ),
        (
            "Is now a good time to start a DCA plan on a CSI 300 index fund?",
            "newbie here - is CSI 300 a sensible first fund to DCA into?",
        ),
        "沪深300覆盖A股最大的300家公司，很适合当定投的核心仓位。定投本来就不用择时，关键是能坚持3年以上。",
        "CSI 300 covers the 300 largest A-share companies, so it works well as a core DCA "
        "holding. With DCA you don't need to time the entry; what matters is sticking with it "
        "for 3+ years.",
    ),
    Topic(
        "dca_frequency",
        (
            "定投是每周扣款好还是每月扣款好？",
            "周定投和月定投收益差别大吗",
            "我该选每两周定投还是每月一次？",
        ),
        (
            "Weekly or monthly DCA - does it actually matter?",
            "Is there any real difference between investing every week vs once a month?",
        ),
        "长期看周定投和月定投的收益差别很小。选一个和你发工资节奏一致、能坚持下去的频率就行。",
        "Over the long run weekly and monthly DCA end up almost the same. Pick the schedule "
        "that matches your payday and that you can keep up.",
    ),
    Topic(
        "a_vs_c",
        (
            "A类和C类份额到底有什么区别？",
            "同一个基金有A和C两个代码，买哪个划算？",
            "C类份额是不是更适合短期持有？",
        ),
        (
            "What's the difference between the A and C share classes of the same fund?",
            "Should I buy class A or class C if I plan to hold for about 6 months?",
        ),
        "A类收申购费、不收销售服务费，C类不收申购费但每年收约0.2%-0.4%的销售服务费。"
        "持有不到一年一般选C类，打算长期拿就选A类。",
        "Class A charges a front-end purchase fee, class C has no purchase fee but an annual "
        "sales service fee of about 0.2-0.4%. Under a year C is usually cheaper; for long "
        "holds pick A.",
    ),
    Topic(
        "redemption_time",
        (
            "基金赎回一般几天能到账？",
            "卖出的基金钱什么时候回到银行卡？",
            "今天下午赎回的，啥时候能到账啊",
        ),
        (
            "How long does it take for a redemption to hit my bank account?",
            "sold my fund yesterday, when will the cash arrive?",
        ),
        "普通股票和债券基金一般T+1确认、T+2到T+4到账，QDII基金要T+7左右。15点以后提交的按下一个交易日算。",
        "Domestic equity and bond funds usually confirm on T+1 and pay out by T+2 to T+4; "
        "QDII funds take around T+7. Orders after 3 pm count from the next trading day.",
    ),
    Topic(
        "qdii_quota",
        (
            "为什么纳指QDII基金限购了，每天只能买100块？",
            "QDII额度用完了还有什么办法买美股基金？",
            "标普500的基金怎么暂停申购了",
        ),
        (
            "Why can I only buy 100 yuan a day of the Nasdaq QDII fund?",
            "My S&P 500 QDII fund suspended purchases - any alternatives?",
        ),
        "QDII基金受外汇额度限制，额度紧张时基金公司就会限购或暂停申购。"
        "可以分散买几家公司的同类基金，或者用场内的QDII ETF，但要注意溢价。",
        "QDII funds depend on a foreign-exchange quota, and when it runs low the manager caps "
        "or suspends purchases. You can split across several managers' similar funds or use "
        "an exchange-traded QDII ETF, but watch the premium.",
    ),
    Topic(
        "healthcare_drawdown",
        (
            "医疗基金已经跌了40%，还要继续拿着吗？",
            "医药基金亏成这样是割肉还是补仓？",
            "中证医疗指数现在还值得定投吗？",
        ),
        (
            "My healthcare fund is down 40% - hold or cut?",
            "Is it still worth DCA-ing into a healthcare index fund after this slump?",
        ),
        "医疗是长期需求明确但波动很大的行业，仓位最好控制在总资产的10%-20%以内。"
        "如果仓位合适、钱三五年内用不到，可以继续定投摊低成本，不建议恐慌割肉。",
        "Healthcare has clear long-term demand but it is a very volatile sector, so keep it to "
        "roughly 10-20% of your portfolio. If the position is sized right and you won't need "
        "the money for 3-5 years, keep the DCA going rather than panic-selling.",
    ),
    Topic(
        "bond_fund_loss",
        (
            "债券基金也会亏钱吗？",
            "买的纯债基金这个月居然跌了，正常吗",
            "债基是不是稳赚不赔？",
        ),
        (
            "Can a bond fund actually lose money?",
            "Why did my pure bond fund go down this month?",
        ),
        "会的，利率上行时债券价格下跌，债基净值也会回撤，信用违约也会带来损失。"
        "纯债基金的波动一般比股票基金小得多，拉长持有期通常能靠票息收益修复。",
        "Yes - when interest rates rise bond prices fall and the fund's NAV drops, and credit "
        "defaults can also cause losses. Pure bond funds are far less volatile than equity "
        "funds and usually recover through coupon income if you hold longer.",
    ),
    Topic(
        "fees_charged",
        (
            "基金的管理费和托管费是怎么扣的？",
            "管理费1.2%是买的时候一次性扣吗",
            "持有基金每年要单独交管理费吗？",
        ),
        (
            "How are the management and custody fees actually charged?",
            "Do I pay the 1.2% management fee upfront?",
        ),
        "管理费和托管费按日从基金资产里计提，已经反映在每天公布的净值里，不会从你账户里另外扣。"
        "你看到的收益已经是扣完这些费用之后的。",
        "Management and custody fees accrue daily out of the fund's assets and are already "
        "reflected in the published NAV; nothing is deducted from your account separately. "
        "The returns you see are net of those fees.",
    ),
    Topic(
        "take_profit",
        (
            "定投到什么时候该止盈？",
            "定投赚了20%要不要全部卖掉？",
            "有没有比较简单的定投止盈方法",
        ),
        (
            "When should I take profits on a DCA plan?",
            "Up 25% on my index DCA - sell everything?",
        ),
        "比较简单的做法是设一个目标收益率，比如总收益30%，到了就分批止盈，不要一次全卖。"
        "也可以参考估值，指数估值进入高位时逐步减仓。",
        "A simple rule is to set a target, say 30% total return, and take profits in several "
        "batches once you hit it rather than selling all at once. You can also trim gradually "
        "when the index valuation gets expensive.",
    ),
    Topic(
        "stop_dca_crash",
        (
            "最近大跌，要不要先停掉定投？",
            "跌成这样定投还要继续扣吗",
            "市场这么差，定投是不是该暂停一下",
        ),
        (
            "Market is tanking, should I pause my DCA?",
            "Should I stop my automatic investment plan during this crash?",
        ),
        "下跌的时候恰恰是定投买到便宜份额的时候，停掉就失去了摊低成本的意义。只要这笔钱短期用不到，就继续按计划扣款。",
        "A falling market is exactly when DCA buys cheap units, so stopping defeats the "
        "purpose. As long as you won't need the money soon, keep the plan running.",
    ),
    Topic(
        "etf_vs_feeder",
        (
            "场内ETF和场外联接基金有什么区别？",
            "沪深300ETF和沪深300联接基金选哪个？",
            "没有股票账户能买ETF吗",
        ),
        (
            "ETF vs the feeder (link) fund of the same index - which should I use?",
            "Can I buy an ETF without a brokerage account?",
        ),
        "ETF在股票账户里像股票一样实时买卖，费率更低；联接基金在支付宝、银行等场外渠道按净值申购，可以自动定投。"
        "没有股票账户就买联接基金。",
        "An ETF trades intraday in a brokerage account like a stock and is cheaper; the "
        "feeder fund is bought at NAV on platforms like Alipay or your bank and supports "
        "automatic DCA. Without a brokerage account, use the feeder fund.",
    ),
    Topic(
        "setup_plan_app",
        (
            "在支付宝里怎么设置基金定投？",
            "App里自动定投在哪里设置啊",
            "怎么修改定投的扣款日期？",
        ),
        (
            "How do I set up an automatic investment plan in the app?",
            "Where do I change the debit date of my DCA plan?",
        ),
        "打开基金详情页，点底部的“定投”，选择金额、频率和扣款日，确认付款方式就设置好了。"
        "要修改的话去“我的-基金-定投管理”里编辑或暂停。",
        "Open the fund's detail page, tap Auto-invest at the bottom, choose amount, frequency "
        "and debit day, then confirm the payment method. To change it later go to Me > Funds "
        "> Auto-invest plans and edit or pause it.",
    ),
    Topic(
        "dividend_mode",
        (
            "分红方式选现金分红还是红利再投资？",
            "基金分红了钱去哪了",
            "红利再投资有什么好处",
        ),
        (
            "Cash dividends or dividend reinvestment - which is better?",
            "My fund paid a dividend, where did the money go?",
        ),
        "长期定投建议选红利再投资，分红会按净值自动转成份额，不收申购费，复利效果更好。"
        "需要现金流再选现金分红，钱会打到你的余额或银行卡。",
        "For long-term DCA choose dividend reinvestment: the payout is turned into new units "
        "at NAV with no purchase fee, which compounds better. Pick cash dividends only if you "
        "need the income; it goes to your balance or bank card.",
    ),
    Topic(
        "nav_update",
        (
            "基金净值每天几点更新？",
            "为什么我的QDII基金收益昨天没更新",
            "今天的净值怎么还没出来",
        ),
        (
            "What time does the fund NAV get updated each day?",
            "Why is my QDII fund's return always a day behind?",
        ),
        "国内基金一般在交易日晚上8点到11点陆续公布当天净值。QDII基金因为海外市场收盘晚，净值通常要晚一到两天才更新。",
        "Domestic funds publish the day's NAV in the evening of each trading day, usually "
        "between 8 and 11 pm. QDII funds update one to two days later because overseas "
        "markets close later.",
    ),
    Topic(
        "short_redemption_fee",
        (
            "买了3天就赎回要收多少手续费？",
            "持有不满7天赎回真的要收1.5%？",
            "短期赎回费怎么算的",
        ),
        (
            "I bought 3 days ago - what's the fee if I redeem now?",
            "Is there really a 1.5% penalty for selling within 7 days?",
        ),
        "持有不满7天赎回要收1.5%的惩罚性赎回费，全部归入基金资产。持有7天以上一般降到0.5%左右，C类满30天通常免赎回费。",
        "Yes, redeeming within 7 days triggers a 1.5% penalty fee that goes back into the "
        "fund. After 7 days it usually drops to around 0.5%, and C shares are typically free "
        "to redeem after 30 days.",
    ),
    Topic(
        "pick_index_fund",
        (
            "同一个指数有十几只基金，怎么选？",
            "选指数基金主要看什么指标",
            "跟踪误差和规模哪个更重要？",
        ),
        (
            "There are a dozen funds tracking the same index - how do I choose?",
            "What should I look at when picking an index fund?",
        ),
        "主要看三点：费率越低越好、跟踪误差越小越好、规模最好2亿以上避免清盘风险。差别不大时优先选费率低、成立时间长的。",
        "Look at three things: total fees (lower is better), tracking error (smaller is "
        "better) and fund size (ideally over 200 million yuan to avoid liquidation risk). "
        "When they're close, prefer the cheaper, older fund.",
    ),
    Topic(
        "money_market",
        (
            "余额宝这种货币基金会亏本吗？",
            "货币基金安全吗，放应急的钱可以吗",
            "货基和银行活期比哪个好",
        ),
        (
            "Can a money market fund like Yu'e Bao lose money?",
            "Is a money market fund a safe place for my emergency cash?",
        ),
        "货币基金投的是短期存单、国债这类高流动性资产，历史上几乎没有亏损，很适合放应急资金。它不保本，但风险极低，收益一般比活期高。",
        "Money market funds hold short-term deposits and government paper and have almost "
        "never lost money, so they suit emergency cash well. They are not guaranteed, but "
        "the risk is very low and the yield is usually above a demand deposit.",
    ),
    Topic(
        "qdii_fx",
        (
            "买纳斯达克100的QDII基金要承担汇率风险吗？",
            "人民币升值对美股基金有影响吗",
            "QDII基金的收益会受汇率影响吗",
        ),
        (
            "Do Nasdaq-100 QDII funds carry currency risk?",
            "If the yuan strengthens, does my US index fund lose value?",
        ),
        "有的，QDII基金用人民币计价但投的是美元资产，人民币升值会让收益缩水，贬值则会放大收益。长期定投的话汇率影响会被平滑。",
        "Yes. A QDII fund is priced in yuan but holds dollar assets, so a stronger yuan "
        "shrinks your return and a weaker one boosts it. Over a long DCA horizon the currency "
        "effect tends to even out.",
    ),
    Topic(
        "debit_failed",
        (
            "定投扣款失败了怎么办？",
            "这个月定投提示扣款失败，会自动补扣吗",
            "定投没扣成功，要手动补买吗",
        ),
        (
            "My DCA debit failed this month - what happens now?",
            "Will a failed auto-invest payment be retried?",
        ),
        "扣款失败一般是余额不足或超过银行单日限额，当期不会补扣，下个扣款日正常继续。连续失败三次左右计划可能被自动终止，记得检查余额和限额。",
        "A failed debit is usually insufficient balance or the bank's daily limit; that period "
        "is skipped and the next debit date runs as normal. After about three failures in a "
        "row the plan may be cancelled, so check your balance and limits.",
    ),
)

# More ways members ask the same things (each names the topic's key term, as people do).
_MORE_ASKED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "csi300_dca": (
        (
            "沪深300定投现在开始会不会太晚",
            "大家觉得沪深300适合长期定投吗？",
            "沪深300指数基金能当定投核心仓位吗",
        ),
        (
            "Should a beginner start DCA with a CSI 300 fund?",
            "Is the CSI 300 index fund good for long-term DCA?",
        ),
    ),
    "dca_frequency": (
        ("定投频率选每周还是每月？", "每月定投和每周定投哪个好", "定投扣款频率怎么选比较好"),
        (
            "Which DCA frequency is better, weekly or monthly?",
            "How often should my DCA plan debit, weekly or monthly?",
        ),
    ),
    "a_vs_c": (
        ("A类份额和C类份额怎么选？", "买基金选A类还是C类", "C类份额和A类份额费用有什么不同"),
        (
            "Class A or class C shares - which one should I pick?",
            "How do A and C share classes differ in fees?",
        ),
    ),
    "redemption_time": (
        ("基金赎回的钱几天到账", "赎回基金后多久能到银行卡", "场外基金赎回到账要几天？"),
        (
            "How many days until my fund redemption arrives?",
            "When does money from a fund redemption reach the bank?",
        ),
    ),
    "qdii_quota": (
        ("QDII基金为什么限购？", "纳指QDII基金暂停申购了怎么办", "美股QDII基金额度不够怎么买"),
        (
            "Why are QDII funds limiting purchases?",
            "The Nasdaq QDII fund stopped accepting purchases - what now?",
        ),
    ),
    "healthcare_drawdown": (
        ("医疗基金跌了这么多还能拿吗", "医疗基金要不要继续定投？", "医疗指数基金亏了40%怎么办"),
        (
            "Should I keep holding my healthcare fund after the drop?",
            "Healthcare fund down a lot - keep investing or sell?",
        ),
    ),
    "bond_fund_loss": (
        ("债券基金为什么会跌？", "纯债基金也会亏损吗", "债基跌了要不要赎回"),
        ("Why would a bond fund fall in value?", "Is it normal for a bond fund to lose money?"),
    ),
    "fees_charged": (
        ("基金管理费是每天扣还是每年扣？", "托管费和管理费从哪里扣", "基金的管理费怎么收取的"),
        (
            "When is the fund management fee deducted?",
            "How does a fund charge its management and custody fees?",
        ),
    ),
    "take_profit": (
        ("定投赚钱了什么时候止盈", "定投止盈有什么方法？", "定投收益20%该不该止盈"),
        (
            "How do I decide when to take profits on DCA?",
            "Is there a simple take-profit rule for DCA?",
        ),
    ),
    "stop_dca_crash": (
        ("大跌的时候要不要暂停定投", "市场大跌定投该停吗？", "下跌行情里定投还要坚持吗"),
        (
            "Should I stop DCA when the market crashes?",
            "Is it smart to pause my DCA plan in a downturn?",
        ),
    ),
    "etf_vs_feeder": (
        ("ETF和联接基金买哪个好", "场内ETF和场外联接基金怎么选？", "联接基金和ETF有啥不同"),
        (
            "Should I buy the ETF or its feeder fund?",
            "What's the difference between an ETF and its feeder fund?",
        ),
    ),
    "setup_plan_app": (
        ("App里怎么设置定投？", "定投计划在哪里设置", "支付宝定投的扣款日在哪改"),
        (
            "Where do I set up a DCA plan in the app?",
            "How can I set up automatic investing in the app?",
        ),
    ),
    "dividend_mode": (
        ("基金分红选哪种方式好", "现金分红和红利再投资哪个好？", "红利再投资和现金分红怎么选"),
        (
            "Should I choose cash dividends or dividend reinvestment?",
            "Which dividend option is better for a DCA fund?",
        ),
    ),
    "nav_update": (
        ("基金净值几点公布？", "净值一般晚上几点更新", "QDII基金净值为什么更新晚一天"),
        (
            "When is the fund NAV published each day?",
            "What time do fund NAVs update in the evening?",
        ),
    ),
    "short_redemption_fee": (
        ("持有不到7天赎回收多少手续费", "短期赎回费是多少？", "买了几天就卖要收赎回费吗"),
        (
            "How much is the redemption fee within 7 days?",
            "What's the fee for redeeming a fund after a few days?",
        ),
    ),
    "pick_index_fund": (
        ("怎么挑选指数基金？", "同一个指数的基金怎么选", "选指数基金看费率还是规模"),
        (
            "How do I pick between index funds on the same index?",
            "Which metrics matter when choosing an index fund?",
        ),
    ),
    "money_market": (
        ("货币基金会不会亏钱", "余额宝货币基金安全吗？", "应急的钱放货币基金可以吗"),
        ("Is a money market fund safe?", "Could my money market fund ever lose money?"),
    ),
    "qdii_fx": (
        ("QDII基金有汇率风险吗？", "汇率变化对QDII基金有什么影响", "人民币升值QDII基金会亏吗"),
        (
            "Does the exchange rate affect my QDII fund?",
            "Is there currency risk in a US index QDII fund?",
        ),
    ),
    "debit_failed": (
        ("定投扣款失败怎么办", "扣款失败会自动补扣吗？", "定投扣款没成功要紧吗"),
        ("What happens if my DCA debit fails?", "My auto-invest debit failed - will it retry?"),
    ),
}

TOPICS: tuple[Topic, ...] = tuple(
    replace(t, zh=t.zh + _MORE_ASKED[t.key][0], en=t.en + _MORE_ASKED[t.key][1])
    for t in _FIRST_ASKED
)

# Small talk, tagged with when it makes sense: "am" (before 11:00), "pm" (after 15:00,
# after the close), "eve" (after 21:00), "fri" (Friday afternoon on), "wkd" (weekend),
# "any". "{pct}" and "{week}" are filled in with a plausible number.
CHAT_ZH: tuple[tuple[str, str], ...] = (
    ("早上好各位", "am"),
    ("早啊", "am"),
    ("早，今天又要上班了", "am"),
    ("开盘了开盘了", "am"),
    ("今天又是绿油油的一天😭", "pm"),
    ("收盘了，沪深300今天{pct}", "pm"),
    ("今天成交量好小", "pm"),
    ("北向资金今天又流出了", "pm"),
    ("看了一眼账户，默默关掉App", "pm"),
    ("今天医药板块终于涨了一点", "pm"),
    ("晚安各位", "eve"),
    ("睡了睡了，明天还要搬砖", "eve"),
    ("周末愉快！", "fri"),
    ("周一见", "fri"),
    ("这周总算结束了", "fri"),
    ("周末不开盘，终于可以不看账户了", "wkd"),
    ("周末有人去爬山吗", "wkd"),
    ("周末补了一下基金的书，推荐《漫步华尔街》", "wkd"),
    ("哈哈哈哈", "any"),
    ("我的医疗基金还在坑里躺着", "any"),
    ("刚发工资，定投扣款成功✌️", "any"),
    ("这波反弹能持续吗", "any"),
    ("心态放平，慢慢来", "any"),
    ("同感", "any"),
    ("打卡，定投第{week}周", "any"),
    ("学到了", "any"),
    ("这个群真不错，干货多", "any"),
    ("楼上说得对", "any"),
    ("今天午饭吃什么好呢", "any"),
    ("有没有人在深圳的，线下聚一下？", "any"),
    ("别慌，问题不大", "any"),
    ("又到了年报季，好多基金经理写的年报挺有意思", "any"),
    ("哈哈，韭菜的自我修养", "any"),
    ("我老婆问我基金为什么又亏了😂", "any"),
    ("定投最难的就是坚持", "any"),
    ("我把App的收益提醒关了，心情好多了", "any"),
    ("最近在看指数估值表，挺有用的", "any"),
    ("今年目标：不追涨不杀跌", "any"),
    ("同事都在聊黄金，我还是老老实实定投", "any"),
    ("有没有人和我一样，买了就忘了密码的🤣", "any"),
)
CHAT_EN: tuple[tuple[str, str], ...] = (
    ("good morning all", "am"),
    ("morning! coffee first, markets later", "am"),
    ("Nasdaq {pct} overnight", "am"),
    ("red day today, finally", "pm"),
    ("market is so quiet today", "pm"),
    ("CSI 300 closed {pct} today", "pm"),
    ("night all", "eve"),
    ("anyone watching the Fed meeting tonight?", "eve"),
    ("happy Friday", "fri"),
    ("see you on Monday", "fri"),
    ("finally the weekend, no charts for two days", "wkd"),
    ("lol same", "any"),
    ("just got paid, DCA went through", "any"),
    ("hang in there everyone", "any"),
    ("that's a good point", "any"),
    ("TIL", "any"),
    ("thanks for the tips in here, super helpful group", "any"),
    ("my portfolio says no", "any"),
    ("slow and steady", "any"),
    ("hahaha", "any"),
    ("week {week} of my DCA streak", "any"),
    ("turned off the price alerts, best decision this year", "any"),
    ("reading about index valuation bands, pretty useful", "any"),
    ("the hardest part of DCA is doing nothing", "any"),
    ("my colleague keeps talking about gold, I'm sticking to my plan", "any"),
)
GREETINGS_ZH = ("大家好，新人报到，请多关照🙏", "大家好，朋友推荐进来的，来学习")
GREETINGS_EN = ("hi all, new here 👋", "hello! friend sent me the invite link")
WELCOMES = ("欢迎欢迎", "welcome!", "欢迎～有问题直接问", "welcome aboard")
