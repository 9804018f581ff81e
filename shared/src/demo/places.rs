//! The demo city: districts with their streets and roads, and the public
//! places where the self-service points, metro points and partner sites
//! stand. Coordinates are approximate WGS-84 positions in a Hangzhou-shaped
//! city; data, not logic.

/// A district: its name, centre, how far its points spread (degrees), its
/// sub-district streets (街道, which name the branch libraries) and roads.
pub struct District {
    /// Name, "西湖区".
    pub name: &'static str,
    /// Centre latitude.
    pub lat: f64,
    /// Centre longitude.
    pub lon: f64,
    /// How far points scatter around the centre, in degrees.
    pub spread: f64,
    /// Sub-district streets, which name its branches.
    pub streets: &'static [&'static str],
    /// Roads, for addresses.
    pub roads: &'static [&'static str],
}

/// The districts, urban first: branches are handed out round-robin in this
/// order, so the urban districts get the most.
pub const DISTRICTS: &[District] = &[
    District {
        name: "上城区",
        lat: 30.250,
        lon: 120.185,
        spread: 0.025,
        streets: &[
            "湖滨",
            "清波",
            "小营",
            "望江",
            "紫阳",
            "南星",
            "四季青",
            "凯旋",
            "采荷",
            "笕桥",
            "彭埠",
            "丁兰",
            "九堡",
        ],
        roads: &["解放路", "庆春路", "延安路", "秋涛路", "凤起东路", "江锦路"],
    },
    District {
        name: "拱墅区",
        lat: 30.315,
        lon: 120.148,
        spread: 0.025,
        streets: &[
            "米市巷",
            "湖墅",
            "小河",
            "和睦",
            "大关",
            "上塘",
            "祥符",
            "拱宸桥",
            "半山",
            "康桥",
            "石桥",
            "东新",
            "文晖",
            "潮鸣",
            "天水",
            "武林",
            "长庆",
        ],
        roads: &[
            "莫干山路",
            "湖墅南路",
            "上塘路",
            "石桥路",
            "东新路",
            "丽水路",
        ],
    },
    District {
        name: "西湖区",
        lat: 30.268,
        lon: 120.110,
        spread: 0.03,
        streets: &[
            "北山", "西溪", "翠苑", "文新", "古荡", "灵隐", "转塘", "留下", "蒋村", "三墩", "双浦",
        ],
        roads: &[
            "文三路",
            "天目山路",
            "文一西路",
            "古墩路",
            "之江路",
            "西溪路",
        ],
    },
    District {
        name: "滨江区",
        lat: 30.205,
        lon: 120.210,
        spread: 0.02,
        streets: &["西兴", "长河", "浦沿"],
        roads: &["江南大道", "滨盛路", "江陵路", "网商路"],
    },
    District {
        name: "萧山区",
        lat: 30.170,
        lon: 120.265,
        spread: 0.04,
        streets: &["城厢", "北干", "蜀山", "新塘", "宁围", "瓜沥", "闻堰"],
        roads: &["市心路", "人民路", "金城路", "建设一路"],
    },
    District {
        name: "余杭区",
        lat: 30.290,
        lon: 120.000,
        spread: 0.04,
        streets: &["五常", "仓前", "闲林", "良渚", "径山", "瓶窑", "中泰"],
        roads: &["文一西路", "五常大道", "良渚大道", "余杭塘路"],
    },
    District {
        name: "临平区",
        lat: 30.420,
        lon: 120.300,
        spread: 0.03,
        streets: &["临平", "南苑", "东湖", "星桥", "乔司", "塘栖", "运河"],
        roads: &["迎宾路", "世纪大道", "藕花洲大街"],
    },
    District {
        name: "钱塘区",
        lat: 30.305,
        lon: 120.360,
        spread: 0.03,
        streets: &["下沙", "白杨", "河庄", "义蓬", "前进"],
        roads: &["学林街", "文泽路", "月雅路"],
    },
    District {
        name: "富阳区",
        lat: 30.050,
        lon: 119.960,
        spread: 0.03,
        streets: &["富春", "银湖", "东洲", "鹿山"],
        roads: &["金桥北路", "桂花路", "江滨西大道"],
    },
    District {
        name: "临安区",
        lat: 30.233,
        lon: 119.725,
        spread: 0.03,
        streets: &["锦城", "青山湖", "锦南", "玲珑"],
        roads: &["衣锦街", "钱王大街"],
    },
    District {
        name: "桐庐县",
        lat: 29.797,
        lon: 119.691,
        spread: 0.02,
        streets: &["桐君", "旧县", "城南"],
        roads: &["迎春南路", "白云源路"],
    },
    District {
        name: "淳安县",
        lat: 29.605,
        lon: 119.042,
        spread: 0.02,
        streets: &["千岛湖", "石林"],
        roads: &["新安东路", "环湖北路"],
    },
    District {
        name: "建德市",
        lat: 29.475,
        lon: 119.281,
        spread: 0.02,
        streets: &["新安江", "洋溪", "梅城"],
        roads: &["新安江路", "严州大道"],
    },
];

/// A named place with a fixed position: (place, district, lat, lon).
pub type Landmark = (&'static str, &'static str, f64, f64);

/// Where the central library stands.
pub const CENTRAL_LIBRARY: Landmark = ("杭州图书馆", "上城区", 30.2455, 120.2105);

/// Where the delivery centre stands: by the ring road, not downtown.
pub const DELIVERY_CENTRE: Landmark = ("网借配送中心", "拱墅区", 30.3380, 120.1180);

/// The 31 self-service points, in the order they opened (the first ten
/// have first-generation lockers).
pub const SELF_SERVICE: &[Landmark] = &[
    ("市民中心", "上城区", 30.2450, 120.2110),
    ("武林广场", "拱墅区", 30.2710, 120.1640),
    ("黄龙体育中心", "西湖区", 30.2700, 120.1360),
    ("湖滨步行街", "上城区", 30.2580, 120.1650),
    ("南宋御街", "上城区", 30.2430, 120.1690),
    ("西湖文化广场", "拱墅区", 30.2790, 120.1660),
    ("浙江大学紫金港校区", "西湖区", 30.3040, 120.0830),
    ("城西银泰城", "拱墅区", 30.2960, 120.1130),
    ("运河文化广场", "拱墅区", 30.3200, 120.1430),
    ("邵逸夫医院", "上城区", 30.2580, 120.1960),
    ("来福士广场", "上城区", 30.2470, 120.2140),
    ("杭州东站", "上城区", 30.2910, 120.2130),
    ("杭州西站", "余杭区", 30.3540, 120.0020),
    ("萧山国际机场", "萧山区", 30.2360, 120.4320),
    ("滨江区行政服务中心", "滨江区", 30.2080, 120.2120),
    ("奥体中心", "滨江区", 30.2310, 120.2330),
    ("萧山区市民中心", "萧山区", 30.1800, 120.2680),
    ("钱江世纪城", "萧山区", 30.2430, 120.2700),
    ("未来科技城", "余杭区", 30.2830, 120.0100),
    ("良渚文化村", "余杭区", 30.3830, 120.0400),
    ("杭州师范大学仓前校区", "余杭区", 30.2940, 119.9980),
    ("临平新城", "临平区", 30.4200, 120.3000),
    ("下沙高教园区", "钱塘区", 30.3150, 120.3500),
    ("西溪湿地", "西湖区", 30.2700, 120.0670),
    ("之江文化中心", "西湖区", 30.1880, 120.1310),
    ("浙江工业大学屏峰校区", "西湖区", 30.2260, 120.0430),
    ("城北体育公园", "拱墅区", 30.3300, 120.1530),
    ("富阳区市民中心", "富阳区", 30.0490, 119.9580),
    ("临安区行政服务中心", "临安区", 30.2330, 119.7240),
    ("桐庐县行政服务中心", "桐庐县", 29.7970, 119.6910),
    ("千岛湖客运中心", "淳安县", 29.6060, 119.0380),
];

/// The 8 metro station points.
pub const METRO: &[Landmark] = &[
    ("龙翔桥", "上城区", 30.2600, 120.1670),
    ("凤起路", "拱墅区", 30.2650, 120.1690),
    ("武林广场", "拱墅区", 30.2725, 120.1660),
    ("打铁关", "拱墅区", 30.2880, 120.1780),
    ("火车东站", "上城区", 30.2910, 120.2120),
    ("钱江路", "上城区", 30.2480, 120.2090),
    ("江陵路", "滨江区", 30.2080, 120.2140),
    ("西湖文化广场", "拱墅区", 30.2790, 120.1680),
];

/// The 5 partner sites, with whether they keep shop hours (a bookshop) or
/// office hours (a service hall).
pub const PARTNERS: &[(Landmark, bool)] = &[
    (
        ("晓风书屋（体育场路店）", "拱墅区", 30.2730, 120.1700),
        true,
    ),
    (("西西弗书店（湖滨店）", "上城区", 30.2560, 120.1640), true),
    (("龙井村文化礼堂", "西湖区", 30.2240, 120.1220), false),
    (("钱塘区行政服务中心", "钱塘区", 30.3050, 120.3600), false),
    (("浙江工业大学朝晖校区", "拱墅区", 30.2930, 120.1630), false),
];

/// The district record for a name in the lists above.
pub fn district(name: &str) -> &'static District {
    DISTRICTS
        .iter()
        .find(|d| d.name == name)
        .unwrap_or(&DISTRICTS[0])
}
