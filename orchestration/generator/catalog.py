"""Static reference data of the sample world: brands, products, names, export strings."""

from __future__ import annotations

from dataclasses import dataclass

# Top-50 ROI benchmarks of the contract; sports_outdoor and health have none there, so the
# generator aims them inside the 1.5-2.5 band of the others.
TARGET_ROI = {
    "beauty": 1.5,
    "3c_electronics": 2.0,
    "fashion": 2.5,
    "home_decor": 2.0,
    "sports_outdoor": 1.8,
    "health": 1.7,
}

# Probability that a click ends in a paid order (eventually), per industry.
PAID_CONVERSION = {
    "beauty": 0.09,
    "3c_electronics": 0.05,
    "fashion": 0.08,
    "home_decor": 0.06,
    "sports_outdoor": 0.06,
    "health": 0.08,
}


@dataclass(frozen=True)
class Product:
    sku_suffix: str
    title: str
    short: str
    price_cents: int


@dataclass(frozen=True)
class Brand:
    name: str
    code: str
    industry: str
    products: tuple[Product, ...]
    note_titles: tuple[str, ...]
    kol_suffixes: tuple[str, ...]


def _products(*rows: tuple[str, str, int]) -> tuple[Product, ...]:
    return tuple(
        Product(f"{i + 1:02d}", title, short, price * 100)
        for i, (title, short, price) in enumerate(rows)
    )


# Ordered so that the first four campaign slots cover the four benchmarked industries.
BRANDS: tuple[Brand, ...] = (
    Brand(
        "Lumiere",
        "lm",
        "beauty",
        _products(
            ("焕亮精华液 30ml", "精华液", 299),
            ("修护面霜 50g", "面霜", 199),
            ("氨基酸洁面乳 120g", "洁面", 89),
            ("玻尿酸补水面膜 10片", "面膜", 129),
            ("清透防晒乳 SPF50", "防晒", 159),
        ),
        (
            "油皮亲妈！这瓶{p}我回购三次",
            "早C晚A 新手入门",
            "{p}真实测评｜空瓶记",
            "敏感肌也能放心用的{p}",
            "黄皮显白秘诀大公开",
            "学生党平价{p}推荐",
        ),
        ("爱护肤", "的美妆日记", "成分党", "护肤研究所"),
    ),
    Brand(
        "Voltix",
        "vx",
        "3c_electronics",
        _products(
            ("主动降噪无线耳机 Pro", "降噪耳机", 699),
            ("65W 氮化镓快充充电器", "充电器", 159),
            ("智能运动手表 S2", "智能手表", 1299),
            ("三模机械键盘 茶轴", "机械键盘", 459),
            ("20000mAh 移动电源", "充电宝", 199),
        ),
        (
            "通勤党必入的{p}",
            "{p}深度体验一个月",
            "打工人桌面改造计划",
            "千元内最值的{p}",
            "开箱｜{p}到底值不值",
        ),
        ("数码控", "玩机日常", "科技测评", "的桌搭"),
    ),
    Brand(
        "Mori Thread",
        "mt",
        "fashion",
        _products(
            ("羊毛混纺双面大衣", "大衣", 899),
            ("高腰直筒牛仔裤", "牛仔裤", 299),
            ("桑蚕丝衬衫", "真丝衬衫", 459),
            ("软糯针织开衫", "开衫", 259),
            ("百搭厚底小白鞋", "小白鞋", 399),
        ),
        (
            "小个子显高穿搭｜{p}",
            "一衣多穿 {p}的五种搭法",
            "通勤极简风穿搭合集",
            "被问爆的{p}链接来了",
            "158cm 微胖女生试穿{p}",
        ),
        ("穿搭日记", "的衣橱", "爱穿搭", "时髦研究社"),
    ),
    Brand(
        "Nestory",
        "ns",
        "home_decor",
        _products(
            ("北欧简约落地灯", "落地灯", 459),
            ("棉麻抱枕套 两只装", "抱枕套", 69),
            ("香薰蜡烛礼盒", "香薰蜡烛", 168),
            ("手工陶瓷花瓶", "花瓶", 129),
            ("记忆棉床垫 1.8m", "床垫", 1999),
        ),
        (
            "出租屋改造｜{p}氛围感拉满",
            "小户型收纳神器合集",
            "{p}用了半年的真实感受",
            "一百元提升幸福感的家居好物",
            "卧室改造前后对比",
        ),
        ("的小家", "生活家", "爱收纳", "家居日常"),
    ),
    Brand(
        "Peakline",
        "pk",
        "sports_outdoor",
        _products(
            ("三合一冲锋衣 男款 L", "冲锋衣", 899),
            ("轻量防水登山鞋", "登山鞋", 699),
            ("速干运动T恤", "速干T恤", 129),
            ("户外折叠露营椅", "露营椅", 239),
            ("徒步双肩包 30L", "双肩包", 369),
        ),
        (
            "徒步必备的一件{p}",
            "周末露营装备清单",
            "{p}实测：暴雨里走了十公里",
            "新手爬山该怎么选{p}",
            "城市轻户外穿搭",
        ),
        ("去山野", "运动派", "户外日记", "爱徒步"),
    ),
    Brand(
        "VitaLeaf",
        "vl",
        "health",
        _products(
            ("复合维生素片 60粒", "维生素", 199),
            ("益生菌固体饮料 30袋", "益生菌", 259),
            ("深海鱼油软胶囊", "鱼油", 169),
            ("胶原蛋白肽粉", "胶原蛋白", 299),
            ("乳清蛋白粉 1kg", "蛋白粉", 329),
        ),
        (
            "熬夜党的{p}清单",
            "吃了三个月{p}的变化",
            "上班族日常营养怎么补",
            "{p}怎么选不踩坑",
            "健身餐搭配｜{p}",
        ),
        ("健康生活", "的养生日常", "营养师", "爱健身"),
    ),
)

KOL_PREFIXES = (
    "小鹿",
    "阿May",
    "山野老王",
    "奶茶",
    "橘子",
    "暖暖",
    "Coco",
    "大熊",
    "麦兜",
    "一颗柚子",
    "Luna",
    "阿杰",
    "糖糖",
    "木木",
    "七七",
    "Kiki",
)

CAMPAIGN_THEMES = ("新品首发", "618", "双11", "年货节", "春季上新", "夏日焕新", "开学季", "周年庆")
CAMPAIGN_SUFFIXES = ("种草", "测评", "好物推荐", "达人计划", "")

# Export strings per normalised state; "refunded" is a full refund.
TMALL_STATUS = {
    "pending_payment": "等待买家付款",
    "paid": "买家已付款，等待卖家发货",
    "shipped": "卖家已发货，等待买家确认",
    "completed": "交易成功",
    "closed": "交易关闭",
    "refunded": "交易关闭",
}
JD_STATUS = {
    "pending_payment": "等待付款",
    "paid": "等待出库",
    "shipped": "等待确认收货",
    "completed": "完成",
    "closed": "已取消",
    "refunded": "退款成功",
}

CAMPAIGN_HEADER = (
    "campaign_id",
    "campaign_name",
    "brand",
    "industry",
    "store_platform",
    "store_id",
    "start_date",
    "end_date",
    "daily_budget_cny",
    "store_score",
)
NOTE_METRICS_HEADER = (
    "日期",
    "笔记ID",
    "笔记标题",
    "博主ID",
    "博主昵称",
    "计划ID",
    "曝光量",
    "阅读量",
    "点击量",
    "点赞量",
    "评论量",
    "收藏量",
    "分享量",
    "关注量",
    "消费(元)",
    "笔记合作费用(元)",
)
FUNNEL_HEADER = ("cid", "platform", "event_time", "event_type", "store_id", "sku_id")
TMALL_HEADER = (
    "订单编号",
    "买家会员名",
    "收货人姓名",
    "联系手机",
    "收货地址",
    "订单创建时间",
    "订单付款时间",
    "订单状态",
    "买家实际支付金额",
    "退款金额",
    "宝贝标题",
    "宝贝总数量",
    "店铺ID",
    "推广点击ID",
)
JD_HEADER = (
    "订单号",
    "下单帐号",
    "客户姓名",
    "联系电话",
    "客户地址",
    "下单时间",
    "付款确认时间",
    "订单状态",
    "应付金额",
    "退款金额",
    "商品名称",
    "订购数量",
    "店铺ID",
    "广告点击ID",
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏飞宇浩然欣怡子涵梓轩雨彤嘉豪思远晨曦佳琪俊熙诗涵一诺梦瑶天佑文博若汐"  # noqa: E501
CITIES = (
    ("上海市", ("徐汇区", "浦东新区", "静安区", "杨浦区", "闵行区")),
    ("北京市", ("朝阳区", "海淀区", "东城区", "丰台区")),
    ("广东省广州市", ("天河区", "越秀区", "海珠区", "番禺区")),
    ("广东省深圳市", ("南山区", "福田区", "宝安区", "龙岗区")),
    ("浙江省杭州市", ("西湖区", "拱墅区", "滨江区", "余杭区")),
    ("江苏省南京市", ("鼓楼区", "玄武区", "建邺区")),
    ("四川省成都市", ("锦江区", "武侯区", "高新区", "青羊区")),
    ("湖北省武汉市", ("洪山区", "江汉区", "武昌区")),
    ("陕西省西安市", ("雁塔区", "碑林区", "未央区")),
    ("重庆市", ("渝中区", "江北区", "南岸区")),
    ("福建省厦门市", ("思明区", "湖里区")),
    ("山东省青岛市", ("市南区", "崂山区", "黄岛区")),
)
ROADS = (
    "中山路",
    "人民路",
    "解放路",
    "建设路",
    "文三路",
    "漕溪北路",
    "体育西路",
    "春熙路",
    "小寨路",
    "长江路",
    "和平大道",
    "科技园南路",
    "滨江大道",
    "花园街",
)
COMPOUNDS = ("阳光花园", "锦绣小区", "翠苑", "书香苑", "滨江公寓", "万科城", "绿地中心")
