/* demo_lists.c - the tables behind the demo data. Strings here end up inside
 * JSON built without escaping, so none may hold a quote or a backslash. */
#include "demo_internal.h"

#include "scrm/util.h"

/* Common surnames, most frequent first (the generator weights them by rank). */
const char *const demo_surnames[] = {
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",   "徐", "孙", "马", "朱", "胡",
    "郭", "何", "林", "罗", "高", "郑", "梁", "谢", "宋", "唐",   "许", "韩", "冯", "邓", "曹",
    "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡",   "余", "杜", "叶", "程", "苏",
    "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟",   "谭", "陆", "汪", "范", "金",
    "石", "廖", "贾", "夏", "韦", "付", "方", "白", "邹", "孟",   "熊", "秦", "邱", "江", "尹",
    "薛", "闫", "段", "雷", "侯", "龙", "史", "陶", "黎", "贺",   "顾", "毛", "郝", "龚", "邵",
    "万", "钱", "严", "覃", "武", "戴", "莫", "孔", "向", "欧阳",
};

const char *const demo_given_f[] = {
    "婷", "静", "敏", "丽", "娜", "芳", "娟", "霞", "燕", "艳", "颖", "琳", "雪", "慧", "欣",
    "悦", "佳", "怡", "梦", "晨", "琪", "瑶", "雅", "思", "诗", "涵", "雨", "萱", "可", "馨",
    "妍", "彤", "洁", "倩", "露", "薇", "蕾", "璐", "晓", "月", "玉", "兰", "凤", "萍", "红",
    "英", "嘉", "紫", "若", "宁", "丹", "蓉", "珊", "茜", "语", "心", "如", "秀", "美", "玲",
};

const char *const demo_given_m[] = {
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华",
    "飞", "鑫", "波", "宇", "浩", "凯", "健", "俊", "帆", "帅", "旭", "宁", "龙", "林", "洋",
    "博", "文", "晨", "阳", "泽", "昊", "然", "睿", "轩", "子", "一", "天", "志", "建", "国",
    "亮", "峰", "成", "东", "海", "毅", "振", "豪", "航", "翔", "彬", "锋", "楠", "鸣", "源",
};

/* Mainland mobile prefixes (13x, 15x, 17x, 18x, 19x): 42 x 10^8 numbers fit in 32 bits. */
const unsigned demo_phone_prefixes[] = {
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153,
    155, 156, 157, 158, 159, 170, 171, 173, 175, 176, 177, 178, 180, 181,
    182, 183, 184, 185, 186, 187, 188, 189, 191, 193, 195, 197, 198, 199,
};

/* The catalogue: basics (multi-packs), fashion (prints, collaborations), gift boxes. */
const struct demo_product demo_catalogue[] = {
    {"WZ-B101", "纯棉短袜 5双装", CAT_BASICS, 3990, 30},
    {"WZ-B102", "隐形船袜 硅胶防滑 6双装", CAT_BASICS, 3590, 28},
    {"WZ-B103", "纯棉中筒袜 5双装", CAT_BASICS, 4990, 22},
    {"WZ-B104", "男士商务中筒袜 6双装", CAT_BASICS, 5990, 12},
    {"WZ-B105", "毛巾底运动袜 3双装", CAT_BASICS, 4590, 8},
    {"WZ-F201", "印花袜 小熊 3双装", CAT_FASHION, 3990, 25},
    {"WZ-F202", "印花袜 复古格纹 3双装", CAT_FASHION, 4290, 20},
    {"WZ-F203", "堆堆袜 秋冬款 2双装", CAT_FASHION, 3590, 20},
    {"WZ-F204", "联名款 国潮插画 4双装", CAT_FASHION, 6990, 20},
    {"WZ-F205", "联名款 星空限定 4双装", CAT_FASHION, 7990, 15},
    {"WZ-G301", "新年礼盒 6双装", CAT_GIFT, 12900, 35},
    {"WZ-G302", "情侣袜礼盒 4双装", CAT_GIFT, 9900, 30},
    {"WZ-G303", "中秋礼盒 8双装", CAT_GIFT, 15900, 20},
    {"WZ-G304", "生日礼盒 5双装", CAT_GIFT, 8900, 15},
};

/* Where customers come from. Package cards bring most of them (a card in every
 * parcel, a few percent scanned); the SMS recall reaches old buyers; the live
 * code and the pop-up store's QR bring people who mostly have not bought yet. */
const struct demo_channel_def demo_channels[] = {
    {"包裹卡-天猫", "package_card", "card-tmall", 350, P_TMALL, {0}, 120, 16.0, 0, 18},
    {"包裹卡-抖音", "package_card", "card-douyin", 180, P_DOUYIN, {0}, 120, 20.0, 0, 18},
    {"包裹卡-微信小店", "package_card", "card-wxshop", 100, P_WECHAT, {0}, 120, 12.0, 0, 20},
    {"短信召回-老客", "sms", "sms-recall", 120, -1, {450, 300, 250}, 100, 80.0, 0, 5},
    {"直播间活码", "live", "live-douyin", 80, P_DOUYIN, {0}, 600, 0, 96, 50000},
    {"快闪店二维码", "qr", "qr-popup", 50, -1, {350, 250, 400}, 600, 0.02, 0, 1500},
    {"公众号菜单", "other", "mp-menu", 40, P_WECHAT, {0}, 600, 0, 0, 0},
};

const struct demo_platform demo_platforms[NPLAT] = {
    {"tmall", "", 3200000000000000000ull},
    {"douyin", "DY", 6900000000000000000ull},
    {"wechat", "WX", 3700000000000000000ull},
};

const struct demo_operator demo_operators[] = {
    {"xiaomei", "小美", 450},
    {"azhe", "阿哲", 300},
    {"lingling", "玲玲", 150},
};

const struct demo_tag_def demo_tags[NTAG] = {
    [T_HIGH_VALUE] = {"高价值", "价值", "#d4380d"},
    [T_PRICE_SENSITIVE] = {"价格敏感", "价值", "#fa8c16"},
    [T_BASICS] = {"基础款偏好", "偏好", "#1677ff"},
    [T_FASHION] = {"时尚款偏好", "偏好", "#eb2f96"},
    [T_GIFT] = {"礼盒客户", "偏好", "#722ed1"},
    [T_NEW] = {"新客", "生命周期", "#52c41a"},
    [T_SLEEPING] = {"沉睡客户", "生命周期", "#8c8c8c"},
    [T_CARD] = {"包裹卡", "来源", "#13c2c2"},
    [T_LIVE] = {"直播间", "来源", "#2f54eb"},
    [T_1111] = {"双11", "活动", "#f5222d"},
    [T_618] = {"618", "活动", "#faad14"},
    [T_REFUND] = {"有退款", "售后", "#a0d911"},
};

const char *const demo_cat_names[NCAT] = {"basics", "fashion", "gift"};
const char *const demo_status_names[3] = {"paid", "refunded", "cancelled"};
const char *const demo_gender_names[3] = {"f", "m", "u"};
const char *const demo_stages_early[3] = {"added", "observing", "interested"};

/* Community groups: the schema's kinds and the names the brand gives them. */
const char *const demo_group_kinds[NGK] = {"basic", "high_value", "koc"};
const char *const demo_group_names[NGK] = {"袜子福利群 ", "高价值会员群 ", "KOC 种草群 "};

/* Buyers' category tastes: mostly basics, fashion lovers, gift givers, mixed. */
const unsigned demo_pref_share[NPREF] = {500, 220, 100, 180};
const unsigned demo_pref_mix[NPREF][NCAT] = {
    {850, 120, 30},
    {250, 700, 50},
    {300, 200, 500},
    {550, 300, 150},
};
const unsigned demo_cat_unbound[NCAT] = {650, 250, 100};

/* An order off the buyer's home platform, and orders of non-members. */
const unsigned demo_platform_mix[NPLAT] = {450, 300, 250};
const unsigned demo_platform_unbound[NPLAT] = {400, 280, 320};
/* The home platform of customers who came through no channel. */
const unsigned demo_platform_free[NPLAT] = {330, 300, 370};

/* Orders and sign-ups by hour of the day, Beijing time: evenings are busiest. */
const double demo_hour_profile[24] = {3, 1.5, 1, 0.5, 0.5, 0.5, 1, 2, 3, 4, 5, 5,
                                      6, 5,   4, 4,   4,   4,   5, 6, 8, 9, 8, 5};

_Static_assert(SCRM_ARRAY_LEN(demo_surnames) == DEMO_NSURNAMES, "surnames");
_Static_assert(SCRM_ARRAY_LEN(demo_given_f) == DEMO_NGIVEN_F, "given names");
_Static_assert(SCRM_ARRAY_LEN(demo_given_m) == DEMO_NGIVEN_M, "given names");
_Static_assert(SCRM_ARRAY_LEN(demo_phone_prefixes) == DEMO_NPREFIXES, "phone prefixes");
_Static_assert(SCRM_ARRAY_LEN(demo_catalogue) == DEMO_NPRODUCTS, "catalogue");
_Static_assert(SCRM_ARRAY_LEN(demo_channels) == DEMO_NCHANNELS, "channels");
_Static_assert(SCRM_ARRAY_LEN(demo_operators) == DEMO_NOPERATORS, "operators");
