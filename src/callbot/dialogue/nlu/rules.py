"""Explicit rules of docs/intents.md: keyword patterns per intent and the priority that resolves a
reply carrying two intents.

The near-certain rules, which decide before the learned model, are data: data/rules.yaml, read here
(``CERTAIN``). The patterns below only speak when the model is unsure.

Patterns run on normalised, homophone-corrected text. Order is the rule book: abuse beats
everything, complaint beats reject, hold_on beats repeat, a callback request beats reject and busy,
a question beats the interest or refusal around it, and a refusal with a reason stays a refusal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import yaml

from callbot.dialogue.nlu.intents import BUILTIN_INTENTS

# Multi-character words used for homophone correction (see text.HomophoneLexicon). Earlier words
# win when two share a pinyin key. Words of one industry (分期, 宽带, 学费) are in its pack's vocabulary
# (data/industries/), which a script's `industry` adds.
LEXICON: tuple[str, ...] = (
    "需要",
    "不需要",
    "多少钱",
    "收费",
    "费用",
    "利息",
    "利率",
    "便宜",
    "打折",
    "折扣",
    "免费",
    "机器人",
    "真人",
    "人工",
    "人工客服",
    "转人工",
    "录音",
    "投诉",
    "骚扰",
    "举报",
    "报警",
    "黑名单",
    "拉黑",
    "删掉",
    "电话",
    "手机号",
    "神经病",
    "骗子",
    "傻逼",
    "智障",
    "王八蛋",
    "垃圾",
    "已经",
    "考虑",
    "琢磨",
    "商量",
    "感兴趣",
    "兴趣",
    "方便",
    "开会",
    "开车",
    "上班",
    "没空",
    "时间",
    "稍等",
    "一下",
    "等等",
    "听不清",
    "清楚",
    "听不见",
    "没听清",
    "听不懂",
    "明白",
    "意思",
    "重复",
    "大声",
    "声音",
    "微信",
    "短信",
    "邮箱",
    "资料",
    "链接",
    "地址",
    "位置",
    "公司",
    "单位",
    "机构",
    "银行",
    "正规",
    "打错",
    "本人",
    "认识",
    "拜拜",
    "再见",
    "具体",
    "办理",
    "申请",
    "活动",
    "产品",
    "条件",
    "材料",
    "明天",
    "后天",
    "下午",
    "晚上",
    "中午",
    "下周",
    "周末",
    "晚点",
    "联系",
    "打给我",
    "信号",
    "谢谢",
    "不用",
    "可以",
    "没问题",
    "信息",
    "泄露",
    "谁给",
    "以后",
    "回头",
    "改天",
    "下个月",
    "一会儿",
    "待会",
)


@dataclass(frozen=True)
class Hit:
    intent: str
    matched: str
    how: str  # "关键词" | "正则" | "规则"


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts))


P = "[的啊呀吧呢哦嘛了哈啦噢喔呗么]*"  # sentence-final particles allowed after a bare answer
NEG = "(?<![不没别])"

LINE_CHECK = _rx(
    r"(能|可以|能不能)?听(得)?(到|见|清楚?)(我说话)?(吗|么|没)?$",
    r"^有人(吗|么|没|在吗)$",
    r"^(喂)+(你好)*$",
    r"^(你好)+$",
    r"在吗$",
)
IS_ROBOT = _rx(
    r"机器人",
    r"机器(吗|吧|么|在|人|说|打)",
    r"是机器",
    r"(是|是不是)?真人(吗|么|吧|还是|在|打|说)",
    r"真的人",
    r"活人",
    r"人工智能",
    r"(?<![a-z])ai(?![a-z])",
    r"虚拟|自动(回复|外呼)|外呼",
    r"是(个)?真人(不|没)",
    r"录音",
    r"录(好|制)的|提前录",
    r"(自动|智能)(语音|客服|的)",
    r"电脑(在|打|说)",
    r"是不是电脑",
    r"是不是人",
    r"是人(还是|吗)",
    r"自动拨号",
    r"(到底|究竟)是不是人",
    r"机械|合成的|像合成|(设定|设置|预设)好的",
    r"系统(自动)?(拨|打)|自动(拨|打)",
    r"(是|像)电脑|电脑(吧|吗)",
    r"小度|小爱|siri",
    r"机器打",
    r"(跟|和)真人.{0,4}[吗么]$",
    r"人工的?还是|是人工的?(吗|么)",
)
WRONG_PERSON = _rx(
    r"打错",
    r"找错",
    r"错人",
    r"不认识(他|她|这个人|你说的|这人)",
    r"没(有)?(这个|这|此)人",
    r"换人了",
    r"换号",
    r"新(办|换|买)的(号|卡)",
    r"(刚|才)(办|换|用)(的|了).{0,4}(号|月)",
    r"^我是(他|她)[^的]{1,3}",
    r"^(他|她)(不在|出)",
    r"(他|她)(不在|出差|出去|去外地|在外地)",
    r"(^|他|她|那)是我的?(爸|妈|儿子|女儿|闺女|老公|老婆|爱人|媳妇|丈夫|哥|姐|弟|妹|爷爷|奶奶|外公|外婆|姥姥|姥爷|父亲|母亲|孩子|舅|姑|叔|姨|同事|朋友|亲戚)",
    r"不是(他|她)?本人",
    r"不是你(要找|说|找)的",
    r"不姓",
    r"我(姓|叫).{1,4}不(姓|叫)",
    r"我叫.{1,4}不(叫|是)",
    r"不是(姓)?.{1,2}(先生|女士|小姐|老师|总|经理)",
    r"是我(?!自己)[^的]{1,3}的(电话|号码|手机|号)",
    r"找的不是我",
    r"不是我[啊呀吧哦]*$",
    r"找的.{0,3}不是我",
    r"(我|是)(新|刚|才)(办|换|买|用)的(?!.*(咋|怎么|哪)(知道|来|弄|找|有))",
    r"(?<!要是)(?<!若是)(?<!如果是)我不是(他|她)(?!们)",
    r"^不是我不是",
    r"^不是我.{0,3}(我(姓|叫)|是(他|她)|你找的)",
    r"^(我是|我姓|姓|是)(?P<surname>.)[^的]{1,2}的(?P=surname)$",  # spelling one's own name: 我是武术的武
    r"(他|她)(已经)?不在(我们|这|那)?(单位|公司|家|这)(上班|工作|住)?了",
    r"(他|她)(不用|换了)(这个|那个)?(号|手机|电话)",
    r"(以前|原来|之前)是(别人|他|她|我们.{0,6})的",
    r"(你|你们)(要)?(找|说)的(那个|这个)?.{0,4}(不认识|是我|早|已经|搬走|走了|退休|离职|不在)",
    r"不是一个人",
)
_CALL_VERB = (
    r"(再|重新|回头|晚点|晚些|过会儿?|一会儿?|等会儿?|待会儿?|改天|以后|之后|过(几|两|一|些)天)(再)?(给我|跟我)?"
    r"(打|联系|来电|call|回电|回(过来|个电话|电话|拨))(?!给?你)"
)
_NAMED_TIME = (
    r"明天|明早|明晚|后天|下午|上午|晚上|今晚|中午|早上|傍晚|夜里|下(个)?(周|礼拜|星期|月)|周[一二三四五六日末天]|"
    r"礼拜[一二三四五六天日]|星期[一二三四五六天日]|月底|月初|年后|节后|下班(后|以后|之后)|"
    r"(?<![零一二三四五六七八九十两\d])(?!一点(?![半钟]))(十[一二]?|[一二三四五六七八九两]|1[0-2]|\d)点(半|钟)?"
    r"(?![零一二三四五六七八九十两\d])|"
    r"(?<![零一二三四五六七八九十两\d])(三十一?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?|[一二三四五六七八九]|[0-3]?\d)号|(半|[一二两三几\d])个?(小时|钟头)(后|以后|之后)|[一二两三几\d]+分钟(后|以后|之后)"
)
CALL_LATER_VERB = _rx(
    _CALL_VERB,
    r"换个时间",
    r"(你|你们)再(来)?(问问?|找)我",
    r"^(你)?(晚点|晚些|过会儿?|一会儿?|改天|过两天|待会儿?)(吧|呗)?$",
)
NAMED_TIME = re.compile(_NAMED_TIME)
_PAST = re.compile(r"去年|昨天|前天|上周|上个月")
_PURCHASE_AFTER_TIME = re.compile(r"^(就|已经)?(买|办|装|配|有)")
# a time that dates something else (下个月到期, 晚上看, 周五出发), or corrects a fact (不对是下周五)
_EVENT_AFTER = re.compile(
    r"^(再)?(看|回复|回你|答复|到期|过期|开学|生日|出发|交房|开业|开始|结束|上课|的(机票|票|车|航班))"
)
_CORRECTION = re.compile(r"^(不对|不是|没有)")
_BOOKING_BEFORE = re.compile(r"(约|预约|订|定|安排|排)(个|一个|在|到)?$")
# a time the customer gives for their own action (明天就去还, 月底前会还的, 周五之前还上): a promise, not a callback
_OWN_ACTION_AFTER = re.compile(
    r"^(之前|以前|前)?(我)?(就|会|一定|肯定|马上|保证|都)?(去|来)?(还|交|缴|付|存|转账|处理)"
)
_VISIT_AFTER = re.compile(r"^(去|过去|过来|到店|到你们|来店|来你们|上课|试|来试|来看|看房|体检)")
_TIME_REFUSED = re.compile(
    r"^(也|都|就|我|我们)?(不行|不可以|不太行|不方便|没空|没时间|不在|没法|去不了|来不了|不了|有事)"
)
# what may stand around an offered time when the reply just picks it (我选周六, 那就周日上午吧, 周日下午可以)
CHOICE_REST = re.compile(
    r"(那|就|我|我们|选|要|挑|定|订|约|还是|可以|行|好|都|也|的|吧|呗|啊|呀|了|嘛|哈|嗯|有空|有时间|方便|能来|能去"
    r"|过来|过去|来|去|没问题|比较好|合适|在|这个|那个|是|对|ok)*"
)
# "I will call you when I need it" is the customer considering, not asking for a callback
_SELF_CALL = re.compile(r"有需要|需要的话|有兴趣的话|想好了?再|我(再|会)?(联系|打给)你")
ASK_SOURCE = _rx(
    r"(怎么|咋|从哪|哪里|哪儿|在哪|(?<!你是)(?<!您是)(?<!你们是)谁).{0,6}(我的?|我们的?)(电话|号码|号|手机|信息|资料|名字|姓)",
    r"(号码|电话|号|信息|资料)[^?]{0,4}(哪|谁)(来|弄|搞|给|拿)",
    r"怎么知道我",
    r"谁(给|告诉)(你|的)",
    r"泄露",
    r"买.{0,2}我的",
    r"怎么查到",
    r"(信息|号码|电话|资料|手机号).{0,4}(卖|给|透露|泄露)(给)?(了)?(你|你们)",
    r"没(有)?.{0,6}留过",
    r"(哪|哪里|哪儿)(来|弄|搞)的(我)?的?(号|电话)",
    r"我的?(电话|号码|信息|资料|手机号?)(是)?(怎么|谁|从哪|哪)",
    r"(咋|怎么|从哪儿?|哪里|打哪)(就|还)?(能)?(知道|找到|查到|弄到|搞到|拿到|有了)",
    r"(咋|怎么)(什么|啥)都知道",
    r"(号|号码|电话|信息|资料)(卖|给)(了)?(给)?你们",
    r"把我的?(号|号码|电话|手机号?|信息|资料)(给)?(卖|泄露|给了)",
    r"(买|拿|弄)(来)?的(数据|名单)|数据来源|名单(是)?(哪|从)",
    r"(是不是|是).{0,12}(留|填|登记)的(电话|号码|信息|资料)?",
    r"(从|在).{0,6}那(里|儿)?(拿|弄|搞|买)的",
    r"谁把我(推荐|介绍)|(推荐|介绍)给你们",
    r"(啥|什么)时候.{0,8}(注册|留|登记|填)过",
    r"(物业|中介|银行|医院|4s店|商场).{0,4}给你们的",
)
ASK_ADDRESS = _rx(
    r"(?<!现)(?<!实)在哪",
    r"(是不是|是)在.{1,8}(那边|附近|旁边|对面|那儿|那里|那块)",
    r"(问|问问|打听|想知道|说一下|说下|告诉我)(一下)?(你们|店|门店)?的?地址",
    r"地址(在|是|呢|多少|发|哪|给)|地址.{0,3}(还是|[吗么]$)",
    r"(什么|哪个)(位置|地方)(?!的人)",
    r"怎么(走|过去|去)",
    r"(去|到)哪(里|儿)?(?!些|几)(办|上课|买|看|报名)?",
    r"远(吗|不远)",
    r"哪个(区|城市|地方)",
    r"(门店|分店|线下(店|门店)|办公室)(?!的(吗|吧|么))",
    r"地铁站",
    r"在.{0,4}(城[东南西北]|[东南西北]边|区|路|街|镇|县)(还是|吗|吧)",
    r"位置在",
    r"在几楼|几楼|门牌号|哪个门|(公交|地铁)(能|可以)?到|导航|近不近|远不远|离.{1,8}(近|远)",
    r"(那边|附近|我们(县|市|村|镇|区)|县城|市里).{0,4}有(没有)?(店|门店|分店|网点|分公司)?(吗|么|没有)",
    r"有没有(店|门店|分店|网点|分公司)",
    r"在(市中心|郊区|城里|市区)(吗|么)",
    r"怎么找",
    r"几号线|地铁口|(走路|开车|坐车|打车)?过去要?多(久|远)|(过去|过来)(远|近|方便)(吗|么|不)",
)
ASK_IDENTITY = _rx(
    r"你(们)?是谁",
    r"你谁",
    r"哪位",
    r"(哪里|哪儿|哪)的$",
    r"你(们)?(是)?哪(里|儿|个|家)(?!来)",
    r"(什么|啥)(公司|单位|机构|平台|银行)",
    r"哪(个|家)(公司|单位|机构|平台|银行|保险|学校|医院)",
    r"你们?(那边|那儿)?(是)?(干|做|搞)(嘛|什么|啥)",
    r"正规",
    r"(?<!不)合法(吗|么|不|的吗)",
    r"营业执照",
    r"资质",
    r"你叫(什么|啥)",
    r"贵姓|怎么称呼|(你|您)姓(什么|啥)",
    r"工号",
    r"中介",
    r"你们是(银行|保险)",
    r"是.{0,4}(银行|公司|平台)的(吗|吧|还是)",
    r"靠谱(吗|不)",
    r"(是不是|不会是|会不会是)骗子",
    r"你们公司叫",
    r"没听说过",
    r"你是(做|搞|干|卖).{1,4}的(吧|吗|么|啊|是吧)",
    r"你(们)?是.{1,8}的(吧|吗|么)$|你(们)?是.{1,8}的是吧",
    r"(能|有什么|怎么)证明",
    r"经营许可|许可证|全称",
    r"(什么|啥)业务的",
    r"业务员(吧|吗)",
    r"你到底是谁",
    r"是不是.{0,8}(公司|单位|机构|平台|银行|学校|医院)的",
)
# how much one can borrow or get is a detail of the offer, not its price
_AMOUNT = re.compile(r"(贷|借|额度|赔|返|送)(多少|几)")
_PRICE_OBJECTION = re.compile(r"太(贵|高)|贵了|高了|不便宜|贵死")
# 免费/优惠 naming the offer (那个免费保养是怎么回事) while the question is how it works: a detail
_PRICE_MENTION = re.compile(r"^(免费|优惠|便宜)$")
_HOW_IT_WORKS = re.compile(r"怎么回事|怎么(参加|领|弄|办|用|预约|报名)|(什么|啥)(内容|流程|要求|条件)|具体")
ASK_PRICE = _rx(
    r"多少钱",
    r"多钱",
    r"几块钱",
    r"价格",
    r"价钱",
    r"价位",
    r"收费",
    r"费用",
    r"(要|交|花|收|付)(多少|几)",
    r"要钱",
    r"收钱",
    r"免费",
    r"贵(不贵|吗|么|不)",
    r"便宜",
    r"利息",
    r"利率",
    r"优惠",
    r"折扣",
    r"打折",
    r"[打几]折",
    r"多少一(年|个月|月|平|期|节|课)",
    r"一(年|个月|月|期|节)(要)?多少",
    r"要不要钱",
    r"钱怎么算",
    r"什么价",
    r"几(十|百|千)块|多少块|差价|半价|另外(交|收|付|花)|额外(收|交|付|费)|隐形(收费|消费)",
)
_SEND_NEG = re.compile(r"(不用|别|不要|不必|甭)(给我)?(再)?发")
SEND_INFO = _rx(
    r"发(给我|我|过来|到|个|条|一下|一份|份|点|些|短信|信息|邮件|链接|微信)",
    r"短信",
    r"加.{0,2}微信",
    r"微信(号|上|聊|联系)",
    r"公众号",
    r"邮箱|邮件",
    r"宣传(册|单)",
    r"文字版",
    r"(寄|传).{0,4}资料",
    r"资料.{0,3}(发|寄|给我)",
    r"有没有(什么|啥|相关的?)?(资料|介绍|宣传)|有资料吗",
    r"发(一)?个(过来|给我)",
    r"微信(号)?(是)?多少",
    r"拉我进群|进(个)?群",
    r"寄(一份|份|个|给我)",
)
ASK_DETAIL = _rx(
    r"具体(?!情况)",
    r"怎么(办理?|弄|申请|操作|参加|还|领|用|买|开通|退|收)",
    r"(什么|啥)(活动|产品|东西|业务|服务|要求|条件|材料|手续|赠品|好处|权益|项目|套餐)",
    r"有(什么|啥|哪些)(好处|要求|条件|用|服务|赠品|权益|区别|优势|保障|内容)",
    r"(?<![不没])需要(什么|准备|啥|我做|我干)",
    r"(需要|要|用|得)(去|带|提供|本人|到场|面签|上门|现场).{0,6}(吗|么|不)",
    r"要(什么|啥)(条件|材料|手续|资料)",
    r"多久",
    r"多长时间",
    r"几年",
    r"期限",
    r"详细(说|讲|介绍|点)",
    r"(这|这个|这是)(是)?(干嘛|干啥|做什么)",
    r"是(什么|啥)(东西|意思呢)?$",
    r"卖(的)?(什么|啥)",
    r"有(什么|啥)用",
    r"怎么样",
    r"去现场",
    r"(什么|啥)(内容|课程)",
    r"^(是)?什么(东西)?(啊|呀)?$",
    r"(这|那)是(什么|啥)",
    r"介绍(一下|下)(?!吧)",
    r"怎么回事",
    r"好不好(用|使|学)|(好用|管用|有效果?)(吗|么|不)",
    r"包含|包括|含(哪些|什么|啥)",
    r"(哪些|什么|啥)项目",
    r"都有(哪些|什么|啥)",
    r"签(合同|协议|字|约)",
    r"(是)?哪(个|家|一个)(项目|产品|活动|套餐|款)",
    r"(什么|啥|哪些|几)(型号|配置|款式?|设施|设备|颜色)",
    r"多少(年|天|次|岁)|(?<![过这前那头好])几(次|岁)",
    r"(能|可以|能不能|可不可以|有没有).{0,4}(试用|体验)",
    r"(能|可以)(不能)?.{0,4}(办|买|贷|报|参加|用|退|保留|报销|一起)(吗|么)",
)
# 不是没兴趣 / 并非没有时间: a negated 没(有) is 有
_NOT_WITHOUT = re.compile(r"(不是|并非|不能说)没有?(?=兴趣|需要|时间|空|想法|打算|意向|需求)")
_DOUBLE_NEG = re.compile(r"(也|倒|并|又)?(不是|没有?说过?|没有|没啥|没什么|并非|不能说)(不|没)(?!是|有)")
REJECT = _rx(
    r"(?<!早就)(?<!早)(?<!已经)(?<!好久)(?<!很久)(?<!别的)(?<!其他)(?<!其他的)不用",
    r"不(需要|要|感兴趣|想|办|买|贷|借|租|装|学|报|考虑|必|缺|喜欢|搞|弄|做|参加|了解|打算|投|换|接受|care|去)",
    r"没(有)?(这个?|那个?|什么|啥)?(兴趣|需要|需求|打算|必要|想法|闲心|心思|闲工夫)",
    r"用不(着|上)",
    r"算了",
    r"^不了",
    r"不了谢谢",
    r"免了",
    r"别(推销|介绍|推荐|说了|讲了|发)",
    r"甭",
    r"呵呵",
    r"需要(个|你个)?(鬼|头|屁)",
    r"谁(要|需要|信|稀罕|买)",
    r"才怪",
    r"信你(个鬼|才怪)",
    r"哪有(这么|这种|那么)?好(的)?事",
    r"骗人",
    r"馅饼",
    r"要(这|那)(个|玩意儿?|东西)?(干嘛|干啥|有什么用|何用)",
    r"(说|讲)(的|得)(比唱的)?好听",
    r"不信",
    r"太(贵|高)了?|贵死",
    r"太需要|可需要|特别需要你信|当然需要.{0,2}(呵|哈)",
    r"哪(里)?(需要|用得着|要得着|缺)",
    r"想得美|做梦",
    r"忽悠",
    r"套路",
    r"我缺这个",
    r"拉倒",
    r"最需要了|(说|讲)(的|得)都对",
    r"不(看|听)了",
    # sarcastic assent: 好啊你先给我打一百万过来, 我可太需要了, 你们真会说笑
    r"(你|你们)(先)?(白)?(给|送|打)我.{0,6}(万|一套房|房子|一辆车|金条)",
    r"白送我|这么好心|真会(说笑|开玩笑)|开什么玩笑",
    r"可太(需要|想要|感兴趣|喜欢)",
    r"^(?P<yes>是|对|好)(?P=yes)+.{0,2}(特别|非常|太|可)(需要|感兴趣|想要).{0,2}(呢|哦|啊|呀|行了吧|好了吧|了吧)$",
)
# A rhetorical question or disbelief is a refusal, not the question it is phrased as (我都七十了还买啥
# 保险, 哪有这么便宜的好事): it is checked before the questions.
RHETORICAL = _rx(
    r"还(买|学|弄|搞|练|折腾)(什么|啥)",
    r"(都|岁数|年纪|老了).{0,8}还(办|要|报|贷)(什么|啥)",
    r"哪(有|来)(这么|那么|这种|那种)?.{0,6}(好事|便宜事)",
    r"哪(有|来)(的)?(那么多|这么多|多余的)?(闲)?钱",
    r"馅饼",
    r"才怪",
)
# the go-ahead after waving something off (不用考虑了直接办吧, 短信就不用发了你直接说)
GO_AHEAD = re.compile(r"直接(说|讲|办|给我办|帮我办|安排|登记|下单|报名|开通|来)(吧|呗|了吧|就行|就好|啊)?$")
BUSY = _rx(
    r"(?<![没不])在(开车|开会|忙|上班|外面|吃饭|上课|带(孩子|娃|小孩)|路上|医院|工地|加班|干活|地铁|高速|洗澡|睡觉|办事|排队|飞机|车上|工作|出差|开|做饭|考试|手术)",
    r"(开车|开会|上课|上班|加班|忙|吃饭|睡觉)(着)?呢",
    r"忙着",
    r"很忙|有点忙|正忙|太忙|挺忙|比较忙|忙得很|(?<![不])忙$",
    r"没(有)?(空|时间)",
    r"不(太)?方便",
    r"走不开",
    r"有(点)?事(?!吗|情吗|么)",
    r"太吵|很吵|好吵|吵得",
    r"手(上|头)(有|在)",
    r"(现在|这会儿?)不行",
    r"没法(聊|说|讲|接)",
    r"正在",
    r"要关机",
    r"(开|骑)着.{0,3}车|骑(电动)?车呢|骑着?电动",
    r"顾不上|腾不出(手|空)",
    r"[莫没]得空",
    r"(现在|这会儿?)(真|实在)?(不行|没办法|没法)(聊|说|讲|接)?",
    r"没办法(聊|说|讲|接)",
    r"在(陪|带).{0,4}(看病|医院|输液|打针)",
)
ALREADY_HAVE = _rx(
    r"已经(有|买|办|装|报|开通|贷|交|在用|是|配|投保|参加|下载|注册|弄|搞|用|申请|领|提|开)",
    r"早(就)?(有|买|办|装|配|弄)",
    r"(?<!没)有了(?!解)",
    r"(买|办|装|弄|配|贷|报)(过|好)了",
    r"用(的)?(是)?别(家|的)",
    r"我有.{0,5}了",
    r"有好几",
    r"去年就",
    r"(刚|才|已经)(洗|做|拍|检查|体检|打|装|买|办|配|换|保养|续)(过|好|完)",
    r"(单位|公司)(有|统一|给)",
    r"^有(的|啊|呀|滴|哦)*(有的?)*$",
    r"^有的",
    r"在(别|其他)的?(地方|家)(办|买|装)",
    r"在(别|其他|另)(的|一)?.{0,5}(办|买|装|报|配|做|上|用)(了|过)",
    r"一直(在)?用|用了好(几|多)年|用着呢",
    r"(?<![不没])(办|买|装|报|配|开通)了.{0,3}(会员|套餐)",
)
CONSIDER = _rx(
    r"(?<![不没])考虑",
    r"想(想|一想|一下)",
    r"再看(看|一下)",
    r"看看再说",
    r"先看看",
    r"再说",
    r"琢磨",
    r"商量",
    r"问问",
    r"再比较|对比",
    r"没想好",
    r"不确定",
    r"再研究|研究研究",
    r"再等等",
    r"过段时间",
    r"有需要(再|的话|我)",
    r"还没决定",
    r"(不|别)着急",
    r"看.{0,2}情况",
    r"拿不定|没拿定|定不下|还没定",
    r"犹豫|斟酌",
    r"到时候",
    r"放一放|先放着|缓一缓|缓缓",
    r"^(这个|这|那|也|还)*(不好说|说不好|说不准)(了)?$",  # not 开着车不好说 (cannot talk now)
    r"等(我)?(儿子|女儿|闺女|老公|老婆|家里人|孩子|爱人|老伴|领导|家人).{0,4}(回来|商量|看看|定)",
)
GOODBYE = _rx(
    r"拜拜|再见|88$|bye",
    r"就这样",
    r"先这样",
    r"挂了",
    r"没(别的)?事了?(我挂)?$",
    r"不说了",
    r"^好了好了",
    r"没别的事",
    r"(?<!拜)拜了?$|回见|不聊了|(就|先)?(到这|说到这)(儿|里)?(吧|了)?$|就这么着|那就这(样)?吧?$",
    r"不(耽误|打扰)(你|您)(了|啦)?$",
    r"^(嗯|好|行|那)*(你|您)(先)?忙(吧|你的|去吧)",
)
DENY = _rx(
    r"^(不|不是|不对|没有|没|不不|没的|不不不|没有没有|不是的不是的|不是不是)$",
    r"^(不是|没有)(啊|吧|呀|哦|的)",
    r"没(有)?.{0,6}过",
    r"我没(有)?",
    r"^没有(?!问题)",
    r"^(还|都|也|真|确实)没(有)?(呢|啊|呀|哦)?$",
    r"不是(这|那)(个|样)",
    r"搞错了",
    r"没(欠|逾期|注册|下单|报名|参加)",
    r"^不是.{0,3}(我|那)",
    r"不是我(的|办|买|开|用|申请|注册)",
    r"不是(你们)?(会员|客户)",
    r"^不(是|对)",
    r"没这回事|没有的事|没这事",
    r"(早就|早|已经|好久|很久)(都)?(不|没)(在)?(用|在)",
    r"^(我)?不在(那|这|那儿|这儿|那里|这里|那边)?.{0,4}了$",
    r"(?<!为啥)(?<!为什么)(?<!怎么)(?<!有什么)(?<!有啥)不(太)?行(?![吗么])",
    r"不可以(?![吗么])",
)
AFFIRM = _rx(
    rf"^(是|对|好|行|嗯|恩|可以|没问题|要|成|中|ok|okay|好滴|好嘞|好勒|当然|同意|愿意|需要|方便|有兴趣|感兴趣|在听|在的|是我|对的"
    rf"|确认|确定|没错|正确|肯定|一定){P}$",
    rf"{NEG}(确认|确定)(?![吗么一])",
    r"没(有|什么)问题",
    rf"{NEG}(是的|是啊|对的|对啊|好的|好啊|行啊|可以|没问题|没毛病|需要|要的|感兴趣|有兴趣|想了解|愿意|方便|同意|ok|好嘞)",
    r"你(说|讲)(?!的|得|话|你|他|她|什么|啥|不|了|过)",
    r"请讲",
    r"继续",
    r"在听",
    r"听着",
    r"(接着|往下)(说|讲)",
    r"得嘞|得勒|要得|对头|没得问题",
    r"办吧|帮我办|给我办|办一张|办了吧|报个名|登记",
    r"(帮|给)我(约|预约|安排|订|定|留)",
    r"(?<![不没别])(过去|过来)(看看|试试|试一下|体验|看一下|瞧瞧)",
    r"(?<![不没])是(我|本人)(?=[啊呀吧哦呢嘛的]*($|本人|自己|你|请|有(什么|啥)|什么|啥|怎么))",
    r"^(?!(是|对|好|行)(不|没))(嗯|恩|哦|噢|对|好|行|是)+(?!.*(哪|什么|啥|多少|怎么|吗$|么$))",
    r"那行|也行|行吧|好吧|那好",
    r"(^|[^不])想办",
    r"说说看",
    r"^(那|就|你)?(说|讲)(吧|呗|嘛|啊|呀|来听听)+$",  # 说吧: go ahead
    # a promise to do what the call asks (明天就去还, 月底前会还的, 周五之前还上): assent in a reminder
    r"(会|就|马上|一定|肯定|保证)(去|来)?(还|交|缴|付|存)(?![不没])",
    r"(还|交|缴)(上|清|掉)(?![吗么])",
    r"^(嗯|哦|好)?知道了",
)
# "send it over" names what to send (把价格表发给我, 把门店地址发我微信): the request decides
SEND_OVER = re.compile(r"把.{1,12}发(给|到|过来|我|一下)|发(我|到)(的)?(微信|手机|邮箱|短信)|发短信给我")
# A question no rule names, about the offer (学完有证书吗, 要换光猫吗): ask_detail when the model is unsure
OPEN_QUESTION = re.compile(r"..[吗么]$|(?P<q>[^不])不(?P=q)|还是")

# A reply phrased as a question: an affirm/deny keyword inside it (孩子几岁可以学, 是平安的吗) is not the answer.
QUESTION = re.compile(
    r"[吗么]$|[吗么]还是|(?<![过这前那头好])几(?!天)|多少|(?<![没不])(什么|啥)|怎么|咋|(?<!哪)哪(?!有|来|里有|儿有)|是不是|能不能|可不可以|会不会|有没有|要不要"
    r"|还是.{1,6}$|是否|多(久|大|远|长)|[^不]不$"
)
# Context asking whether anything else is needed: a bare no closes the call.
ANYTHING_ELSE_CONTEXT = re.compile(r"还有(其他|别的|什么)")
CLOSING_NO = re.compile(rf"^(没有?|没有了|没了|没事了?|没别的了?)+{P}(谢谢|谢了|谢谢你|谢谢您)?{P}$")
# Context addressing someone by surname (请问是赵女士吗): a reply giving another surname is a wrong person.
ADDRESSED = re.compile(r"(?P<surname>[\u4e00-\u9fff])(先生|女士|小姐|总|老师|经理|阿姨|叔叔|师傅)")
OWN_SURNAME = re.compile(r"^(我|我是)?(姓|叫)(?P<surname>[\u4e00-\u9fff])")

# Context (the robot's last prompt) that turns a bare "no" into a refusal of the offer.
NEED_CONTEXT = re.compile(
    r"需要|兴趣|要不要|想不想|想要|了解一下|考虑一下|试一下|试试|预约|帮您(办|登记|报|申请|预约|开通)|办理吗|参加吗|报名|领取|体验"
)
# Context that asks about owning something: a bare 有 is possession, a bare 没有 a factual no.
TIME_CONTEXT = re.compile(r"有(时间|空)|方便")
USE_CONTEXT = re.compile(r"还在?(用|使用)|在用|还在.{0,8}(上班|工作|住)")
INTEREST_CONTEXT = re.compile(r"有(兴趣|需要|意向|想法)")
BARE_NO = re.compile(rf"^(不|不是|没有|没|不了|不用|不要|不需要|不行)+{P}$")
# a bare no that answers "is now convenient?" with "not now"; 不需要/不用/不要 still refuse the offer
BARE_NOT_NOW = re.compile(rf"^(不|不是|没有|没|不行)+{P}$")
BARE_YES = re.compile(rf"^(有|有的|有啊|有有|有的有的){P}$")
BACKCHANNEL = re.compile(r"^(嗯|恩|哦|噢|喔|en|o)+(呐|哪)?$")


def parse_certain(raw: str, where: str = "rules.yaml") -> tuple[tuple[str, re.Pattern[str]], ...]:
    """The near-certain rules from their YAML text, in order of precedence: (intent, one pattern that is
    any of the entry's). Every problem is named with the entry and pattern it is in."""
    doc = yaml.safe_load(raw)
    if not isinstance(doc, dict) or set(doc) != {"rules"} or not isinstance(doc["rules"], list):
        raise ValueError(f"{where}: must be a mapping with one key, rules, a list of entries")
    out: list[tuple[str, re.Pattern[str]]] = []
    for i, entry in enumerate(doc["rules"]):
        at = f"{where}: rules[{i}]"
        if not isinstance(entry, dict) or set(entry) != {"intent", "patterns"}:
            raise ValueError(f"{at}: must have exactly intent and patterns")
        intent, patterns = entry["intent"], entry["patterns"]
        if intent not in BUILTIN_INTENTS:
            raise ValueError(f"{at}.intent: {intent!r} is not a built-in intent (docs/intents.md)")
        if intent in (seen for seen, _ in out):
            raise ValueError(f"{at}.intent: {intent!r} has an entry already")
        if not isinstance(patterns, list) or not patterns:
            raise ValueError(f"{at}.patterns: must be a non-empty list of regular expressions")
        for j, pattern in enumerate(patterns):
            if not isinstance(pattern, str) or not pattern.strip():
                raise ValueError(f"{at}.patterns[{j}]: must be a non-empty string")
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(f"{at}.patterns[{j}]: not a regular expression ({e}): {pattern}") from None
        out.append((intent, _rx(*patterns)))
    return tuple(out)


def _load_certain() -> tuple[tuple[str, re.Pattern[str]], ...]:
    raw = resources.files("callbot.dialogue.nlu").joinpath("data", "rules.yaml").read_text("utf-8")
    return parse_certain(raw)


# The rules near-certain enough to decide before the learned model (precision 0.92-1.0 on replies written
# apart from the training data), from data/rules.yaml; the rules below only speak when the model is unsure.
CERTAIN: tuple[tuple[str, re.Pattern[str]], ...] = _load_certain()
ORDER: tuple[tuple[str, re.Pattern[str]], ...] = (
    *CERTAIN,
    ("is_robot", IS_ROBOT),
    ("wrong_person", WRONG_PERSON),
)
QUESTIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ask_source", ASK_SOURCE),
    ("ask_address", ASK_ADDRESS),
    ("ask_identity", ASK_IDENTITY),
    ("ask_price", ASK_PRICE),
    ("send_info", SEND_INFO),
    ("ask_detail", ASK_DETAIL),
)
ANSWERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("reject", REJECT),
    ("busy", BUSY),
    ("already_have", ALREADY_HAVE),
    ("consider", CONSIDER),
    ("goodbye", GOODBYE),
    ("deny", DENY),
    ("affirm", AFFIRM),
)


def remove_double_negation(text: str) -> str:
    """不是不需要 -> 需要, 没有不方便 -> 方便: a negated negation is assent."""
    return _DOUBLE_NEG.sub("", _NOT_WITHOUT.sub("有", text))


def call_verb(text: str) -> str | None:
    """A call verb asking for a callback (再打, 晚点联系); not "I will call you when I need it"."""
    if _SELF_CALL.search(text):
        return None
    m = CALL_LATER_VERB.search(text)
    return m.group(0) if m else None


# a named time offered as the answer to "when can you come" (周六可以吗, 周日下午行不行): a proposal, not a callback
_PROPOSAL_AFTER = re.compile(
    r"^(上午|下午|晚上|早上|中午|的话|那天)*(可以|行|方便|合适|好)(吗|么|不|嘛|不行|不可以)$|^可不可以$"
)


def proposed_time(text: str) -> re.Match[str] | None:
    """A named time asked about as a slot (周六可以吗): the customer answers with a time of their own."""
    m = NAMED_TIME.search(text)
    if m is None or _PAST.search(text[: m.end()]):
        return None
    return m if _PROPOSAL_AFTER.match(NAMED_TIME.sub("", text[m.end() :])) else None


def asked_time(text: str) -> re.Match[str] | None:
    """The first named time that can ask for a callback: not one dating a purchase (去年就买了), not
    one refused (周六不行, 明天没空)."""
    if _SELF_CALL.search(text):
        return None
    m = NAMED_TIME.search(text)
    if m is None or _PAST.search(text[: m.end()]) or _CORRECTION.search(text):
        return None
    rest = NAMED_TIME.sub("", text[m.end() :])
    if _PURCHASE_AFTER_TIME.search(rest) or _TIME_REFUSED.search(rest) or _EVENT_AFTER.search(rest):
        return None
    if _BOOKING_BEFORE.search(text[: m.start()]) or _VISIT_AFTER.search(rest) or _OWN_ACTION_AFTER.search(rest):
        return None
    if _PROPOSAL_AFTER.match(rest):
        return None
    return m


def call_later(text: str) -> str | None:
    """A callback request: a call verb or a named time (bare 再说/回头再说 is not enough)."""
    if found := call_verb(text):
        return found
    m = asked_time(text)
    return m.group(0) if m else None


def offered_time_choice(core: str, context: str) -> bool | None:
    """Whether a reply naming only times the robot's prompt just offered (周六还是周日？ -> 周六吧) picks
    one: True when the rest of the reply is assent or choice, False when it says more (a question),
    None when the reply names a time the prompt did not offer."""
    times = [m.group(0) for m in NAMED_TIME.finditer(core)]
    if not times or not all(t in context for t in times):
        return None
    return CHOICE_REST.fullmatch(NAMED_TIME.sub("", core)) is not None


def price(text: str) -> str | None:
    if _PRICE_OBJECTION.search(text) or _AMOUNT.search(text):
        return None
    m = ASK_PRICE.search(text)
    if m is None:
        return None
    if _PRICE_MENTION.match(m.group(0)) and _HOW_IT_WORKS.search(text) and len(ASK_PRICE.findall(text)) == 1:
        return None
    return m.group(0)


def send_info(text: str) -> str | None:
    if _SEND_NEG.search(text):
        return None
    m = SEND_INFO.search(text)
    return m.group(0) if m else None
