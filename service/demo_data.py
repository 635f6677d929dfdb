"""Demo data for rectiflow (巡察发现共性问题整改机制) — for demonstrations and local trials ONLY.

Shaped like the 2019 report on Shenzhen Guangming district (光明区, see seed/000_*.txt): 12 district
departments, all 6 streets, 22 community stock companies, a finished inspection round whose common
problems are the report's ("工程项目建设监管不严", "便民服务项目管理不到位", "政府合同管理不规范",
"清拆残值处置等方式形成的物品管理制度不健全", "公车管理不规范" …) and a second round still running.

Pure data: no project imports, no database code. Unit codes: D01–D12 departments, S01–S06 streets,
C01–C22 companies, X01/L01/J01 the office, the leading group and the discipline commission. Leaders'
names use the "surname + 某某" pattern so that no real person is named; everybody else gets a
deterministic invented name from ``person_name``. Seeding code reads these constants and builds the
users, units, rounds, problems and cases itself.
"""
from typing import Any

# --------------------------------------------------------------------------------------------- units

DEPARTMENTS = [
    {"code": "D01", "name": "区民政局", "industry": "民政"},  # 便民服务、养老、日间照料中心
    {"code": "D02", "name": "区机关事务管理中心", "industry": "机关事务"},  # 公车管理
    {"code": "D03", "name": "区司法局", "industry": "司法行政"},  # 合同审查、法律顾问 (原区法制办)
    {"code": "D04", "name": "区城市更新和土地整备局", "industry": "土地整备"},  # 清拆残值处置
    {"code": "D05", "name": "区住房和建设局", "industry": "住房建设"},  # 工程项目建设
    {"code": "D06", "name": "区财政局", "industry": "财政"},
    {"code": "D07", "name": "区审计局", "industry": "审计"},
    {"code": "D08", "name": "区教育局", "industry": "教育"},
    {"code": "D09", "name": "区卫生健康局", "industry": "卫生健康"},
    {"code": "D10", "name": "区交通运输局", "industry": "交通运输"},  # 道路、断头路
    {"code": "D11", "name": "区人力资源局", "industry": "人力资源"},
    {"code": "D12", "name": "区国有资产监督管理局", "industry": "国资监管"},  # 集体资产、股份公司
]

STREETS = [
    {"code": "S01", "name": "光明街道", "industry": "街道管理"},
    {"code": "S02", "name": "公明街道", "industry": "街道管理"},
    {"code": "S03", "name": "新湖街道", "industry": "街道管理"},
    {"code": "S04", "name": "凤凰街道", "industry": "街道管理"},
    {"code": "S05", "name": "玉塘街道", "industry": "街道管理"},
    {"code": "S06", "name": "马田街道", "industry": "街道管理"},
]

_COMPANY_SEEDS = [  # (code, community, street code)
    ("C01", "碧眼", "S01"), ("C02", "白花", "S01"), ("C03", "东周", "S01"),
    ("C04", "上村", "S02"), ("C05", "下村", "S02"), ("C06", "马山头", "S02"),
    ("C07", "李松蓢", "S02"), ("C08", "西田", "S02"),
    ("C09", "楼村", "S03"), ("C10", "新羌", "S03"), ("C11", "圳美", "S03"),
    ("C12", "甲子塘", "S04"), ("C13", "塘家", "S04"), ("C14", "东坑", "S04"), ("C15", "凤凰", "S04"),
    ("C16", "田寮", "S05"), ("C17", "玉律", "S05"), ("C18", "长圳", "S05"),
    ("C19", "合水口", "S06"), ("C20", "薯田埔", "S06"), ("C21", "将石", "S06"), ("C22", "新庄", "S06"),
]

COMPANIES = [
    {"code": code, "name": f"{community}社区股份合作公司", "street": street, "industry": "集体经济"}
    for code, community, street in _COMPANY_SEEDS
]

OFFICE_UNIT = {"code": "X01", "name": "区委巡察办", "industry": "巡察工作"}
LEADING_GROUP_UNIT = {"code": "L01", "name": "区委巡察工作领导小组", "industry": "巡察工作"}
DISCIPLINE_UNIT = {"code": "J01", "name": "区纪委监委", "industry": "纪检监察"}

# ------------------------------------------------------------------------- leaders in charge 分管区领导


def _with_companies(codes):
    """The given department/street codes plus every company of the streets among them."""
    return list(codes) + [c["code"] for c in COMPANIES if c["street"] in codes]


LEADERS = [
    {"username": "leader_li", "name": "李某某", "title": "常务副区长",
     "portfolio": _with_companies(["D06", "D07", "D12", "S01"])},
    {"username": "leader_zhang", "name": "张某某", "title": "副区长",
     "portfolio": _with_companies(["D04", "D05", "S02"])},
    {"username": "leader_liu", "name": "刘某某", "title": "副区长",
     "portfolio": _with_companies(["D08", "D09", "S03"])},
    {"username": "leader_chen", "name": "陈某某", "title": "副区长",
     "portfolio": _with_companies(["D01", "D11", "S04"])},
    {"username": "leader_yang", "name": "杨某某", "title": "副区长",
     "portfolio": _with_companies(["D10", "S05"])},
    {"username": "leader_huang", "name": "黄某某", "title": "区委常委、区委办主任",
     "portfolio": _with_companies(["D02", "D03", "S06"])},
]

# ------------------------------------------------------------------------------------------- people

SURNAMES = [
    "陈", "林", "黄", "张", "李", "王", "吴", "刘", "蔡", "杨", "许", "郑", "谢", "何", "罗",
    "梁", "叶", "周", "邓", "钟", "麦", "曾", "彭", "冯", "赖", "卢", "潘", "苏", "朱", "袁",
]

GIVEN = [
    "伟明", "丽娟", "志强", "晓燕", "建华", "嘉欣", "国栋", "慧敏", "锦辉", "秀玲",
    "俊杰", "雪梅", "文彬", "海燕", "振宇", "小红", "永康", "翠萍", "家豪", "美琪",
    "立新", "淑贞", "汉生", "晓婷", "东升", "玉兰", "子健", "静怡",
    "德华", "春梅", "少峰", "佩珊", "耀祖", "婉婷", "浩然", "桂英", "启明", "丽华", "荣光", "思敏",
]


def person_name(n):
    """Deterministic invented person name number ``n`` (n >= 0); 1200 distinct names."""
    return SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES) + 7 * n) % len(GIVEN)]


# Roles a seeded unit gets, with the offset added to the unit's index to pick a name deterministically.
UNIT_STAFF: list[dict[str, Any]] = [
    {"role": "unit_head", "title": "主要负责人", "username_suffix": "head", "name_offset": 0},
    {"role": "unit_liaison", "title": "整改联络员", "username_suffix": "liaison", "name_offset": 500},
]

INSPECTORS: list[dict[str, Any]] = [
    {"username": "inspector1", "name": "周启明", "home_unit": "X01", "group": "区委第一巡察组",
     "specialties": ["党建", "选人用人"]},
    {"username": "inspector2", "name": "蔡慧敏", "home_unit": "D07", "group": "区委第一巡察组",
     "specialties": ["财务审计", "巡审结合"]},
    {"username": "inspector3", "name": "钟国栋", "home_unit": "D05", "group": "区委第一巡察组",
     "specialties": ["工程建设", "招标投标"]},
    {"username": "inspector4", "name": "梁雪梅", "home_unit": "X01", "group": "区委第二巡察组",
     "specialties": ["纪检监察", "问题线索"]},
    {"username": "inspector5", "name": "郑文彬", "home_unit": "D03", "group": "区委第二巡察组",
     "specialties": ["合同管理", "法律顾问"]},
    {"username": "inspector6", "name": "麦佩珊", "home_unit": "D06", "group": "区委第二巡察组",
     "specialties": ["集体资产", "财务管理"]},
]

# ----------------------------------------------------------------------- finished round 区委第一轮巡察

FINISHED_ROUND: dict[str, Any] = {
    "name": "区委第一轮巡察",
    "inspected": ["D01", "D04", "D08", "D09", "S02", "S04", "C04", "C05", "C08", "C12", "C13", "C14"],
    "problems": [
        # 0–3 工程项目建设监管不严
        {"unit": "S02", "category": "工程建设", "source": "resident_report",
         "description": "辖区上村、下村社区两条断头路多年未打通,街道对道路建设项目推进抓得不紧,群众反映强烈。"},
        {"unit": "S02", "category": "工程建设", "source": "inspection",
         "description": "街道小散工程未严格执行招标程序,部分项目先施工后补办手续,现场监理记录缺失。"},
        {"unit": "S04", "category": "工程建设", "source": "audit",
         "description": "社区党群服务中心改造工程变更签证未经审批即实施,结算价超合同价18.6%。"},
        {"unit": "D08", "category": "工程建设", "source": "audit",
         "description": "学校校舍改扩建项目工期一再拖延,对施工单位履约情况缺乏有效监管,未按合同追究违约责任。"},
        # 4–6 便民服务项目管理不到位
        {"unit": "S04", "category": "便民服务", "source": "resident_report",
         "description": "甲子塘社区老年人日间照料(残疾人康复)中心开放不准时,服务流程随意,居民意见得不到及时回复。"},
        {"unit": "D01", "category": "便民服务", "source": "inspection",
         "description": "对委托运营的居家养老服务机构考核流于形式,未按季度开展服务质量评估,考核结果未与经费拨付挂钩。"},
        {"unit": "D09", "category": "便民服务", "source": "resident_report",
         "description": "部分社区健康服务中心周末门诊时间与公示不一致,预约挂号渠道不畅,群众反映就诊不便。"},
        # 7–9 政府合同管理不规范
        {"unit": "D04", "category": "合同管理", "source": "inspection",
         "description": "土地整备补偿协议未经法律顾问审核即签订,部分条款约定不明确,引发后续纠纷和信访。"},
        {"unit": "D08", "category": "合同管理", "source": "inspection",
         "description": "合同签订后未统一归档,部分服务采购合同原件缺失,合同履行情况无人跟踪。"},
        {"unit": "S02", "category": "合同管理", "source": "audit",
         "description": "街道物业管理服务合同到期后未重新采购,以补充协议方式连续续签三年。"},
        # 10–12 清拆残值处置等方式形成的物品管理制度不健全
        {"unit": "D04", "category": "资产管理", "source": "inspection",
         "description": "土地整备清拆形成的钢材、门窗等残值物品未登记造册,处置未经评估和集体决策。"},
        {"unit": "S04", "category": "资产管理", "source": "resident_report",
         "description": "街道土地整备项目清拆残值由施工单位自行处置,处置收入未纳入财政专户管理。"},
        {"unit": "S02", "category": "资产管理", "source": "audit",
         "description": "罚没、暂扣物品台账不全,出入库无审批手续,部分物品去向不明。"},
        # 13–15 公车管理不规范
        {"unit": "D01", "category": "公车管理", "source": "inspection",
         "description": "公务用车使用登记不完整,部分派车单无审批人签字,节假日公车未按规定封存。"},
        {"unit": "S04", "category": "公车管理", "source": "inspection",
         "description": "执法执勤用车未安装定位系统,加油卡与车辆未一一对应,油耗统计缺失。"},
        {"unit": "D09", "category": "公车管理", "source": "audit",
         "description": "下属单位借用企业车辆,车辆维修费用在其他科目列支。"},
        # 16–18 集体资产管理不规范
        {"unit": "C04", "category": "集体资产", "source": "inspection",
         "description": "集体物业出租未进入集体资产交易平台公开招租,部分租金长期低于市场价。"},
        {"unit": "C12", "category": "集体资产", "source": "resident_report",
         "description": "股份合作公司重大事项未经股东代表大会表决,财务公开不及时,股东反映强烈。"},
        {"unit": "C13", "category": "集体资产", "source": "audit",
         "description": "集体用地合作开发项目未按规定报街道审核,合作协议收益分配约定不明。"},
        # 19–21 财务报销审核不严
        {"unit": "D09", "category": "财务管理", "source": "audit",
         "description": "差旅费、会议费报销附件不全,部分票据事由不清,财务审核把关不严。"},
        {"unit": "C05", "category": "财务管理", "source": "audit",
         "description": "股份合作公司大额现金支付未经集体审批,白条入账,发票与实际业务不符。"},
        {"unit": "C08", "category": "财务管理", "source": "inspection",
         "description": "公司招待费支出无明细清单,超标准列支,未按规定进行财务公开。"},
        # 22–23 民生道路建设推进不力
        {"unit": "C04", "category": "道路建设", "source": "resident_report",
         "description": "社区内文阁路未打通,道路征拆工作协调不力,居民出行需绕行。"},
        {"unit": "C14", "category": "道路建设", "source": "resident_report",
         "description": "社区内部道路破损多年未修复,雨季积水严重,维修责任主体不明确。"},
        # 24–25 unit-specific problems, not distilled into a common problem
        {"unit": "D08", "category": "党建", "source": "inspection",
         "description": "局党组理论学习中心组学习流于形式,会议记录不完整,未结合教育系统实际研究问题。"},
        {"unit": "C12", "category": "选人用人", "source": "inspection",
         "description": "公司中层管理人员选聘未经民主推荐程序,个别人员存在近亲属关系未回避。"},
    ],
    "common_problems": [
        {"title": "工程项目建设监管不严", "category": "工程建设", "responsible_department": "D05",
         "description": "街道、社区及部门在工程项目建设中监管缺位,招标、变更、验收等环节把关不严,"
                        "道路等民生项目推进迟缓,个别断头路成为群众反映集中的问题。",
         "problem_indexes": [0, 1, 2, 3]},
        {"title": "便民服务项目管理不到位", "category": "便民服务", "responsible_department": "D01",
         "description": "日间照料中心、社区健康服务等便民服务项目重建设轻运营,开放时间、服务流程不规范,"
                        "对运营机构考核监督不力,群众意见反馈不及时。",
         "problem_indexes": [4, 5, 6]},
        {"title": "政府合同管理不规范", "category": "合同管理", "responsible_department": "D03",
         "description": "合同签订前未经法律审查,条款约定不明,履约跟踪和归档管理缺失,"
                        "到期合同以补充协议方式续签,存在法律和廉政风险。",
         "problem_indexes": [7, 8, 9]},
        {"title": "清拆残值处置等方式形成的物品管理制度不健全", "category": "资产管理",
         "responsible_department": "D04",
         "description": "土地整备清拆残值、罚没暂扣等方式形成的物品未登记造册,处置缺乏评估和集体决策程序,"
                        "处置收入管理不规范。",
         "problem_indexes": [10, 11, 12]},
        {"title": "公车管理不规范", "category": "公车管理", "responsible_department": "D02",
         "description": "公务用车派车审批、使用登记、节假日封存、加油维修等管理制度落实不到位,存在公车私用风险。",
         "problem_indexes": [13, 14, 15]},
        {"title": "集体资产管理不规范", "category": "集体资产", "responsible_department": "D12",
         "description": "社区股份合作公司集体物业出租、合作开发未按规定公开交易,重大事项民主决策程序不落实,"
                        "财务公开不及时。",
         "problem_indexes": [16, 17, 18]},
        {"title": "财务报销审核不严", "category": "财务管理", "responsible_department": "D06",
         "description": "差旅、会议、招待等费用报销附件不全、审核把关不严,大额现金支付和白条入账问题仍有发生。",
         "problem_indexes": [19, 20, 21]},
        {"title": "民生道路建设推进不力", "category": "道路建设", "responsible_department": "D10",
         "description": "社区道路建设、维修责任不清,征拆协调不力,断头路、破损道路长期得不到解决。",
         "problem_indexes": [22, 23]},
    ],
}

# ---------------------------------------------------------- self-check samples per common problem

SELF_CHECK_SAMPLES = {
    "工程项目建设监管不严": {
        "findings": [
            "本单位2018年以来实施的小散工程中,有3个项目未履行招标程序即开工。",
            "2个在建项目监理日志记录不全,隐蔽工程验收资料缺失。",
            "辖区内2条规划道路因征拆问题推进缓慢,尚未形成打通方案。",
        ],
        "measures": [
            "全面梳理在建项目,建立项目台账,逐项明确责任人和完成时限。",
            "对未履行招标程序的项目补正手续,对相关责任人进行约谈。",
            "每月开展工程项目现场检查,检查结果在班子会议上通报。",
            "围绕群众反映集中的路段制定专项整改计划,年底前完成打通。",
        ],
        "institutions": [
            "《小散工程项目管理实施细则》",
            "《工程变更签证审批管理办法》",
            "《工程项目现场监管巡查制度》",
        ],
    },
    "便民服务项目管理不到位": {
        "findings": [
            "辖区2个日间照料中心未按公示时间开放,服务记录不完整。",
            "对委托运营机构的考核未量化,考核结果未与经费拨付挂钩。",
            "群众意见箱长期无人开启,意见反馈无台账。",
        ],
        "measures": [
            "督促运营机构严格执行开放时间,在服务场所公示服务流程和监督电话。",
            "建立季度服务质量评估机制,引入第三方满意度测评。",
            "建立群众意见受理台账,做到5个工作日内答复。",
            "将考核结果与运营经费拨付、合同续签挂钩。",
        ],
        "institutions": [
            "《便民服务场所运营管理规范》",
            "《委托运营机构服务质量考核办法》",
            "《群众意见受理与反馈制度》",
        ],
    },
    "政府合同管理不规范": {
        "findings": [
            "2018年签订的46份合同中有9份未经法律顾问审核。",
            "部分合同原件分散在业务科室,未统一归档。",
            "1份物业服务合同到期后以补充协议方式续签。",
        ],
        "measures": [
            "所有合同签订前一律提交法律顾问审核,出具书面审核意见。",
            "开展合同清理,建立合同管理台账,原件统一交办公室归档。",
            "对到期合同重新履行采购程序,停止以补充协议续签。",
            "每半年开展一次合同履行情况检查。",
        ],
        "institutions": [
            "《合同管理法律顾问审核制度》",
            "《合同归档与履约跟踪管理办法》",
            "《合同签订审批流程规定》",
        ],
    },
    "清拆残值处置等方式形成的物品管理制度不健全": {
        "findings": [
            "土地整备项目清拆残值物品未登记造册,处置无评估报告。",
            "暂扣物品出入库无审批手续,台账与实物不符。",
            "残值处置收入未及时上缴财政专户。",
        ],
        "measures": [
            "对现存残值物品和暂扣物品全面清点,建立统一台账。",
            "残值处置一律委托第三方评估,经集体决策后公开处置。",
            "处置收入全额缴入财政专户,杜绝坐收坐支。",
            "纪检部门对残值处置全过程开展监督。",
        ],
        "institutions": [
            "《土地整备清拆残值处置管理规范》",
            "《暂扣罚没物品保管处置办法》",
            "《物品处置集体决策规程》",
        ],
    },
    "公车管理不规范": {
        "findings": [
            "公务用车派车单部分无审批人签字,用车事由填写不清。",
            "节假日公车未全部入库封存。",
            "加油卡与车辆未一一对应,单车油耗无统计。",
        ],
        "measures": [
            "严格执行派车审批,实行一车一档、一车一卡。",
            "节假日前统一封存公车,由纪检人员抽查。",
            "为全部公务用车安装定位系统,接入全区公车管理平台。",
            "每季度公开单车运行费用,接受干部职工监督。",
        ],
        "institutions": [
            "《公务用车使用管理规定》",
            "《公车节假日封存检查制度》",
            "《公务用车运行费用公开办法》",
        ],
    },
    "集体资产管理不规范": {
        "findings": [
            "公司12宗集体物业中有5宗未经平台公开招租。",
            "2018年以来3项重大事项未提交股东代表大会表决。",
            "财务公开栏内容更新滞后,未按季度公开。",
        ],
        "measures": [
            "到期物业一律进入集体资产交易平台公开招租。",
            "严格落实“三重一大”事项集体决策和股东代表大会表决制度。",
            "按季度更新财务公开内容,接受股东监督。",
            "街道集体资产管理部门对合作开发项目逐一审核。",
        ],
        "institutions": [
            "《集体物业公开招租管理办法》",
            "《股份合作公司“三重一大”事项决策规则》",
            "《集体经济财务公开制度》",
        ],
    },
    "财务报销审核不严": {
        "findings": [
            "抽查2018年报销凭证200份,其中23份附件不全。",
            "存在白条入账和大额现金支付情况。",
            "招待费无公函和接待清单。",
        ],
        "measures": [
            "全面清理不规范凭证,补齐附件,无法补正的追回款项。",
            "严禁白条入账,5000元以上支出一律转账支付。",
            "公务接待严格执行“一函一单一票”。",
            "财务人员参加区财政局组织的报销审核专题培训。",
        ],
        "institutions": [
            "《财务报销审核管理办法》",
            "《公务接待管理实施细则》",
            "《大额资金支付审批制度》",
        ],
    },
    "民生道路建设推进不力": {
        "findings": [
            "辖区存在断头路3条,其中2条已列入年度计划但未开工。",
            "社区内部道路维修责任主体不明确,群众投诉多次未解决。",
            "征拆协调工作未建立专班,进度无人跟踪。",
        ],
        "measures": [
            "成立道路打通工作专班,由班子成员挂点推进。",
            "与区交通运输局明确社区道路维修管养责任分工。",
            "建立道路建设项目周报制度,进度在网上公开。",
            "对群众反映集中的路段优先安排资金和施工。",
        ],
        "institutions": [
            "《社区道路维修管养责任清单》",
            "《民生道路项目推进周报制度》",
            "《断头路打通工作专班运行机制》",
        ],
    },
}

# -------------------------------------------------------------------- ongoing round 区委第二轮巡察

CURRENT_ROUND: dict[str, Any] = {
    "name": "区委第二轮巡察",
    "inspected": ["D02", "D06", "D10", "D11", "S01", "S06", "C01", "C02", "C19", "C20"],
    "problems": [
        {"unit": "D02", "category": "公车管理", "source": "inspection",
         "description": "全区公车管理平台数据与实际车辆不一致,部分单位车辆未接入平台。"},
        {"unit": "D06", "category": "财务管理", "source": "audit",
         "description": "部分专项资金下达后长期结存未用,未及时收回统筹使用。"},
        {"unit": "D06", "category": "政府采购", "source": "inspection",
         "description": "政府采购项目拆分采购规避公开招标,采购需求论证不充分。"},
        {"unit": "D10", "category": "道路建设", "source": "resident_report",
         "description": "光明大道部分路段施工围挡长期占道,交通疏导方案落实不到位。"},
        {"unit": "D11", "category": "便民服务", "source": "resident_report",
         "description": "就业补贴申领材料要求重复提交,办理时限超过承诺时限。"},
        {"unit": "S01", "category": "工程建设", "source": "inspection",
         "description": "街道环境整治工程验收不严,部分项目未验收即支付尾款。"},
        {"unit": "S06", "category": "资产管理", "source": "audit",
         "description": "街道执法队暂扣物品仓库管理混乱,物品台账缺失。"},
        {"unit": "C01", "category": "集体资产", "source": "resident_report",
         "description": "集体厂房租赁合同租期过长、租金偏低,未经股东代表大会表决。"},
        {"unit": "C19", "category": "财务管理", "source": "audit",
         "description": "公司工会经费与公司经费混用,支出审批手续不全。"},
        {"unit": "C20", "category": "合同管理", "source": "inspection",
         "description": "合作建房协议未经法律审查,违约责任条款缺失。"},
    ],
}

# The department whose auditor registers audit findings (巡审结合): 区审计局.
AUDIT_DEPARTMENT = "D07"
