//! The demo newsroom: the site's menu and regions, a dozen bylines, topic tags,
//! captioned images, twenty stories in English, Arabic and Spanish (drafts, scheduled
//! and published; each story's editions linked as translations), a coverage collection
//! and a live breaking ticker. The people and events are invented.

use crate::auth::Actor;
use crate::db::DbConn;
use crate::db::columns::StoredStatus;
use crate::domain::articles::write::{self as article_write, ArticleCreate};
use crate::domain::authors::{self, AuthorCreate};
use crate::domain::breaking::{self, BreakingCreate};
use crate::domain::collections::{self, CollectionCreate};
use crate::domain::input::Input;
use crate::domain::media::{self, MediaCreate, MediaKind};
use crate::domain::tags::{self, TagCreate};
use crate::domain::time::Timestamp;
use crate::error::{AppError, AppResult};

/// What the demo created.
#[derive(Debug, Default)]
pub struct DemoSummary {
    pub articles: usize,
    pub authors: usize,
    pub tags: usize,
    pub media: usize,
    pub breaking: usize,
    pub collections: usize,
}

/// A byline: name and bio in English, then in Arabic and in Spanish. A person's name
/// is written in Arabic script for Arabic and kept as it is in Spanish (`None`); the
/// house bylines are translated.
struct Byline {
    name: &'static str,
    bio: &'static str,
    ar: (&'static str, &'static str),
    es: (Option<&'static str>, &'static str),
}

const AUTHORS: &[Byline] = &[
    Byline {
        name: "Leila Haddad",
        bio: "Covers the Gulf economies and energy markets from Doha.",
        ar: ("ليلى حداد", "تغطي اقتصادات الخليج وأسواق الطاقة من الدوحة."),
        es: (
            None,
            "Cubre las economías del Golfo y los mercados energéticos desde Doha.",
        ),
    },
    Byline {
        name: "Omar Said",
        bio: "Diplomatic correspondent following ceasefire negotiations.",
        ar: ("عمر سعيد", "مراسل دبلوماسي يتابع مفاوضات وقف إطلاق النار."),
        es: (
            None,
            "Corresponsal diplomático que sigue las negociaciones de alto el fuego.",
        ),
    },
    Byline {
        name: "Ana Beltrán",
        bio: "Latin America correspondent based in Bogotá.",
        ar: (
            "آنا بلتران",
            "مراسلة لشؤون أميركا اللاتينية، مقرها في بوغوتا.",
        ),
        es: (
            None,
            "Corresponsal para América Latina, con sede en Bogotá.",
        ),
    },
    Byline {
        name: "Youssef Karim",
        bio: "Reports on health and humanitarian aid across the region.",
        ar: (
            "يوسف كريم",
            "يغطي شؤون الصحة والمساعدات الإنسانية في أنحاء المنطقة.",
        ),
        es: (
            None,
            "Informa sobre salud y ayuda humanitaria en toda la región.",
        ),
    },
    Byline {
        name: "Marta Ruiz",
        bio: "Science and climate reporter.",
        ar: ("مارتا رويز", "صحفية متخصصة في شؤون العلوم والمناخ."),
        es: (None, "Periodista de ciencia y clima."),
    },
    Byline {
        name: "Samir Nasser",
        bio: "Sports editor; football, athletics and the business of sport.",
        ar: (
            "سمير ناصر",
            "محرر الشؤون الرياضية؛ يكتب عن كرة القدم وألعاب القوى واقتصاد الرياضة.",
        ),
        es: (
            None,
            "Editor de Deportes: fútbol, atletismo y el negocio del deporte.",
        ),
    },
    Byline {
        name: "Hana Mahmoud",
        bio: "Arts and culture writer.",
        ar: ("هناء محمود", "كاتبة في شؤون الفنون والثقافة."),
        es: (None, "Redactora de arte y cultura."),
    },
    Byline {
        name: "Daniel Osei",
        bio: "West Africa correspondent in Accra.",
        ar: ("دانيال أوسي", "مراسل لشؤون غرب أفريقيا من أكرا."),
        es: (None, "Corresponsal para África occidental desde Acra."),
    },
    Byline {
        name: "Lucía Ferrer",
        bio: "Technology reporter covering platforms and privacy.",
        ar: (
            "لوسيا فيرير",
            "صحفية متخصصة في التكنولوجيا، تغطي شؤون المنصات الرقمية والخصوصية.",
        ),
        es: (
            None,
            "Periodista de tecnología especializada en plataformas y privacidad.",
        ),
    },
    Byline {
        name: "Karim Aziz",
        bio: "Senior political analyst and columnist.",
        ar: ("كريم عزيز", "كبير المحللين السياسيين وكاتب عمود."),
        es: (None, "Analista político sénior y columnista."),
    },
    Byline {
        name: "Newsroom Staff",
        bio: "Reporting by the newsdesk team.",
        ar: ("فريق التحرير", "تقارير من إعداد فريق التحرير."),
        es: (Some("Redacción"), "Información elaborada por la redacción."),
    },
    Byline {
        name: "Agencies",
        bio: "Reporting from news agencies.",
        ar: ("وكالات", "تقارير مصدرها وكالات الأنباء."),
        es: (Some("Agencias"), "Información de agencias de noticias."),
    },
];

/// Topic tags: the English name (which gives the slug), then Arabic and Spanish.
const TAGS: &[(&str, &str, &str)] = &[
    (
        "Ceasefire talks",
        "محادثات وقف إطلاق النار",
        "Conversaciones de alto el fuego",
    ),
    ("Elections", "الانتخابات", "Elecciones"),
    ("Climate", "المناخ", "Clima"),
    ("Energy", "الطاقة", "Energía"),
    ("Football", "كرة القدم", "Fútbol"),
    ("Public health", "الصحة العامة", "Salud pública"),
    ("Technology", "التكنولوجيا", "Tecnología"),
    ("Refugees", "اللاجئون", "Refugiados"),
    ("Diplomacy", "الدبلوماسية", "Diplomacia"),
    ("Protests", "الاحتجاجات", "Protestas"),
    ("Culture", "الثقافة", "Cultura"),
    ("Economy", "الاقتصاد", "Economía"),
];

/// An image: its file, its caption in English, Arabic and Spanish (the alt text is the
/// caption without its full stop), and its credit in English (see `CREDITS`).
struct Image {
    file: &'static str,
    caption: &'static str,
    ar: &'static str,
    es: &'static str,
    credit: &'static str,
}

const IMAGES: &[Image] = &[
    Image {
        file: "harbour-dawn",
        caption: "Fishing boats return to the harbour at dawn.",
        ar: "قوارب الصيد تعود إلى الميناء عند الفجر.",
        es: "Barcos de pesca regresan al puerto al amanecer.",
        credit: "AP",
    },
    Image {
        file: "negotiators",
        caption: "Delegations arrive for a new round of talks.",
        ar: "وصول الوفود لجولة جديدة من المحادثات.",
        es: "Las delegaciones llegan para una nueva ronda de conversaciones.",
        credit: "Reuters",
    },
    Image {
        file: "polling-station",
        caption: "Voters queue outside a polling station.",
        ar: "ناخبون يصطفون أمام مركز اقتراع.",
        es: "Votantes hacen cola frente a un colegio electoral.",
        credit: "AFP",
    },
    Image {
        file: "solar-farm",
        caption: "Panels at a solar farm in the desert.",
        ar: "ألواح في محطة للطاقة الشمسية في الصحراء.",
        es: "Paneles de una planta solar en el desierto.",
        credit: "Newsroom Staff",
    },
    Image {
        file: "stadium",
        caption: "Fans fill the stands before kick-off.",
        ar: "المشجعون يملؤون المدرجات قبل انطلاق المباراة.",
        es: "Los aficionados llenan las gradas antes del inicio del partido.",
        credit: "AP",
    },
    Image {
        file: "clinic",
        caption: "A nurse prepares vaccines at a rural clinic.",
        ar: "ممرضة تحضّر اللقاحات في عيادة ريفية.",
        es: "Una enfermera prepara vacunas en una clínica rural.",
        credit: "AFP",
    },
    Image {
        file: "server-room",
        caption: "Racks of servers in a data centre.",
        ar: "رفوف الخوادم في مركز للبيانات.",
        es: "Bastidores de servidores en un centro de datos.",
        credit: "Reuters",
    },
    Image {
        file: "market",
        caption: "Shoppers at a central market.",
        ar: "متسوقون في سوق مركزية.",
        es: "Compradores en un mercado central.",
        credit: "AP",
    },
    Image {
        file: "flood",
        caption: "Residents wade through a flooded street.",
        ar: "سكان يخوضون في مياه شارع غمرته الفيضانات.",
        es: "Vecinos cruzan a pie una calle inundada.",
        credit: "AFP",
    },
    Image {
        file: "gallery",
        caption: "Visitors at the opening of an exhibition.",
        ar: "زوار خلال افتتاح معرض.",
        es: "Visitantes en la inauguración de una exposición.",
        credit: "Newsroom Staff",
    },
];

/// Photo credits in English, Arabic and Spanish.
const CREDITS: &[(&str, &str, &str)] = &[
    ("AP", "أسوشيتد برس", "AP"),
    ("Reuters", "رويترز", "Reuters"),
    ("AFP", "الفرنسية", "AFP"),
    ("Newsroom Staff", "فريق التحرير", "Redacción"),
];

/// The coverage collection: name and description in English, Arabic and Spanish.
const COLLECTION: [(&str, &str); 3] = [
    (
        "Ceasefire talks",
        "Every step of the negotiations, with the latest developments pinned first.",
    ),
    (
        "محادثات وقف إطلاق النار",
        "المفاوضات خطوة بخطوة، مع تثبيت أحدث التطورات في المقدمة.",
    ),
    (
        "Conversaciones de alto el fuego",
        "Cada paso de las negociaciones, con los últimos acontecimientos fijados al principio.",
    ),
];

/// One story, told in three languages.
struct Story {
    section: &'static str,
    tags: &'static [&'static str],
    region: &'static str,
    authors: &'static [&'static str],
    image: usize,
    hours_ago: i64,
    featured: bool,
    en: (&'static str, &'static str, &'static str),
    ar: (&'static str, &'static str, &'static str),
    es: (&'static str, &'static str, &'static str),
}

const STORIES: &[Story] = &[
    Story {
        section: "politics",
        tags: &["ceasefire-talks", "diplomacy"],
        region: "mena",
        authors: &["omar-said"],
        image: 1,
        hours_ago: 2,
        featured: true,
        en: (
            "Ceasefire talks resume in Cairo after week-long pause",
            "Mediators say both delegations have agreed to discuss a phased exchange.",
            "Negotiators returned to Cairo on Tuesday for a new round of indirect talks, mediators said, after a week in which contacts had stalled over the sequencing of a truce.",
        ),
        ar: (
            "استئناف محادثات وقف إطلاق النار في القاهرة بعد توقف دام أسبوعاً",
            "الوسطاء يقولون إن الوفدين اتفقا على بحث تبادل على مراحل.",
            "عاد المفاوضون إلى القاهرة يوم الثلاثاء لجولة جديدة من المحادثات غير المباشرة، بحسب الوسطاء، بعد أسبوع تعثرت فيه الاتصالات بسبب ترتيب مراحل الهدنة.",
        ),
        es: (
            "Se reanudan en El Cairo las conversaciones de alto el fuego tras una semana de pausa",
            "Los mediadores afirman que ambas delegaciones aceptaron discutir un intercambio por fases.",
            "Los negociadores regresaron el martes a El Cairo para una nueva ronda de conversaciones indirectas, según los mediadores, tras una semana en la que los contactos se estancaron.",
        ),
    },
    Story {
        section: "politics",
        tags: &["elections"],
        region: "latin-america",
        authors: &["ana-beltran"],
        image: 2,
        hours_ago: 5,
        featured: true,
        en: (
            "Runoff campaign enters final week with turnout in focus",
            "Both candidates court young voters who stayed home in the first round.",
            "With seven days left before the runoff, both campaigns are concentrating their final rallies in the cities where turnout fell furthest in the first round.",
        ),
        ar: (
            "حملة جولة الإعادة تدخل أسبوعها الأخير وسط تركيز على نسبة المشاركة",
            "المرشحان يتوددان إلى الناخبين الشباب الذين قاطعوا الجولة الأولى.",
            "قبل سبعة أيام من جولة الإعادة، تركز الحملتان تجمعاتهما الأخيرة في المدن التي شهدت أكبر تراجع في نسبة المشاركة خلال الجولة الأولى.",
        ),
        es: (
            "La campaña de la segunda vuelta entra en su última semana con la participación en el foco",
            "Ambos candidatos buscan a los jóvenes que no votaron en la primera ronda.",
            "A siete días de la segunda vuelta, las dos campañas concentran sus últimos mítines en las ciudades donde más cayó la participación en la primera ronda.",
        ),
    },
    Story {
        section: "economy",
        tags: &["energy", "economy"],
        region: "mena",
        authors: &["leila-haddad"],
        image: 3,
        hours_ago: 9,
        featured: false,
        en: (
            "Gulf producers weigh output cut as prices slide",
            "Analysts expect a decision at next month's meeting of exporters.",
            "Oil producers in the Gulf are weighing a further cut in output after prices fell for a third consecutive week, according to officials familiar with the discussions.",
        ),
        ar: (
            "منتجو الخليج يدرسون خفض الإنتاج مع تراجع الأسعار",
            "محللون يتوقعون قراراً في اجتماع المصدرين الشهر المقبل.",
            "يدرس منتجو النفط في الخليج خفضاً إضافياً للإنتاج بعد تراجع الأسعار للأسبوع الثالث على التوالي، بحسب مسؤولين مطلعين على المناقشات.",
        ),
        es: (
            "Los productores del Golfo estudian recortar la producción ante la caída de precios",
            "Los analistas esperan una decisión en la reunión de exportadores del próximo mes.",
            "Los productores de petróleo del Golfo estudian un nuevo recorte de la producción después de que los precios cayeran por tercera semana consecutiva, según fuentes conocedoras.",
        ),
    },
    Story {
        section: "environment",
        tags: &["climate"],
        region: "asia-pacific",
        authors: &["marta-ruiz"],
        image: 8,
        hours_ago: 14,
        featured: true,
        en: (
            "Coastal towns prepare for a wetter monsoon",
            "Forecasters warn of heavier rain than the ten-year average.",
            "Local authorities along the coast have begun clearing drainage channels and stocking shelters after forecasters predicted rainfall well above the ten-year average.",
        ),
        ar: (
            "مدن ساحلية تستعد لموسم أمطار موسمية أغزر",
            "خبراء الأرصاد يحذرون من أمطار تفوق متوسط السنوات العشر.",
            "بدأت السلطات المحلية على طول الساحل تنظيف قنوات التصريف وتجهيز الملاجئ بعد أن توقع خبراء الأرصاد هطول أمطار تفوق بكثير متوسط السنوات العشر.",
        ),
        es: (
            "Las ciudades costeras se preparan para un monzón más lluvioso",
            "Los meteorólogos advierten de lluvias por encima de la media de diez años.",
            "Las autoridades locales de la costa han empezado a limpiar canales de drenaje y a abastecer refugios tras unas previsiones de lluvia muy superiores a la media.",
        ),
    },
    Story {
        section: "sports",
        tags: &["football"],
        region: "africa",
        authors: &["samir-nasser"],
        image: 4,
        hours_ago: 20,
        featured: false,
        en: (
            "Late equaliser keeps title race alive",
            "A stoppage-time header denied the leaders a seven-point lead.",
            "A header deep into stoppage time earned the visitors a draw on Saturday and kept the title race open going into the final month of the season.",
        ),
        ar: (
            "هدف تعادل متأخر يبقي سباق اللقب مشتعلاً",
            "ضربة رأس في الوقت بدل الضائع حرمت المتصدر من فارق سبع نقاط.",
            "منحت ضربة رأس في الوقت بدل الضائع الفريق الضيف تعادلاً يوم السبت، وأبقت سباق اللقب مفتوحاً مع دخول الشهر الأخير من الموسم.",
        ),
        es: (
            "Un empate en el descuento mantiene viva la pelea por el título",
            "Un cabezazo en el tiempo añadido privó al líder de una ventaja de siete puntos.",
            "Un cabezazo en el tiempo de descuento dio el empate al equipo visitante el sábado y mantuvo abierta la lucha por el título en el último mes de la temporada.",
        ),
    },
    Story {
        section: "health",
        tags: &["public-health"],
        region: "africa",
        authors: &["youssef-karim", "agencies"],
        image: 5,
        hours_ago: 26,
        featured: false,
        en: (
            "Vaccination drive reaches remote districts",
            "Mobile teams travelled by boat to reach villages cut off by floods.",
            "Health workers say a vaccination campaign has reached districts that had gone without routine immunisation for more than a year, thanks to mobile teams travelling by boat.",
        ),
        ar: (
            "حملة التطعيم تصل إلى مناطق نائية",
            "فرق متنقلة سافرت بالقوارب للوصول إلى قرى عزلتها الفيضانات.",
            "يقول العاملون الصحيون إن حملة التطعيم وصلت إلى مناطق حُرمت من التطعيم الروتيني لأكثر من عام، بفضل فرق متنقلة تنقلت بالقوارب.",
        ),
        es: (
            "La campaña de vacunación llega a distritos remotos",
            "Equipos móviles viajaron en barca para llegar a aldeas aisladas por las inundaciones.",
            "Los sanitarios aseguran que la campaña de vacunación ha llegado a distritos que llevaban más de un año sin inmunización rutinaria, gracias a equipos que viajan en barca.",
        ),
    },
    Story {
        section: "technology",
        tags: &["technology"],
        region: "europe",
        authors: &["lucia-ferrer"],
        image: 6,
        hours_ago: 31,
        featured: false,
        en: (
            "Regulators question data centre water use",
            "A new report says cooling demand could double by the end of the decade.",
            "Regulators have asked operators of large data centres to publish how much water their cooling systems use, after a report warned that demand could double by the end of the decade.",
        ),
        ar: (
            "الجهات التنظيمية تتساءل عن استهلاك مراكز البيانات للمياه",
            "تقرير جديد يقول إن الطلب على التبريد قد يتضاعف بنهاية العقد.",
            "طلبت الجهات التنظيمية من مشغلي مراكز البيانات الكبيرة نشر كميات المياه التي تستهلكها أنظمة التبريد، بعد تقرير حذر من تضاعف الطلب بنهاية العقد.",
        ),
        es: (
            "Los reguladores cuestionan el consumo de agua de los centros de datos",
            "Un informe advierte de que la demanda de refrigeración podría duplicarse antes de que acabe la década.",
            "Los reguladores han pedido a los operadores de grandes centros de datos que publiquen cuánta agua consumen sus sistemas de refrigeración.",
        ),
    },
    Story {
        section: "arts-culture",
        tags: &["culture"],
        region: "mena",
        authors: &["hana-mahmoud"],
        image: 9,
        hours_ago: 40,
        featured: false,
        en: (
            "Calligraphy exhibition draws record crowds",
            "Curators extended the show by a month after queues formed daily.",
            "An exhibition of contemporary calligraphy has been extended by a month after queues formed outside the gallery every day since it opened.",
        ),
        ar: (
            "معرض للخط العربي يجذب أعداداً قياسية من الزوار",
            "القيّمون مددوا المعرض شهراً بعد طوابير يومية.",
            "مُدّد معرض للخط العربي المعاصر شهراً إضافياً بعد أن اصطفت الطوابير أمام صالة العرض كل يوم منذ افتتاحه.",
        ),
        es: (
            "Una exposición de caligrafía bate récords de público",
            "Los comisarios la prolongan un mes tras colas diarias.",
            "Una exposición de caligrafía contemporánea se ha prolongado un mes después de que se formaran colas ante la galería cada día desde su apertura.",
        ),
    },
    Story {
        section: "analysis",
        tags: &["diplomacy", "ceasefire-talks"],
        region: "palestine",
        authors: &["karim-aziz"],
        image: 1,
        hours_ago: 50,
        featured: false,
        en: (
            "Analysis: what a phased truce would need to hold",
            "Verification, sequencing and aid access are the sticking points.",
            "Any phased truce would rest on three things that past agreements lacked: independent verification, a clear sequence of steps, and guaranteed access for aid convoys.",
        ),
        ar: (
            "تحليل: ما الذي تحتاجه هدنة على مراحل لتصمد",
            "التحقق وترتيب المراحل ووصول المساعدات نقاط الخلاف الرئيسية.",
            "ستعتمد أي هدنة على مراحل على ثلاثة أمور افتقرت إليها الاتفاقات السابقة: تحقق مستقل، وتسلسل واضح للخطوات، وضمان وصول قوافل المساعدات.",
        ),
        es: (
            "Análisis: qué necesitaría una tregua por fases para sostenerse",
            "La verificación, el calendario y el acceso humanitario son los escollos.",
            "Cualquier tregua por fases descansaría en tres elementos que faltaron en acuerdos anteriores: verificación independiente, una secuencia clara y acceso garantizado para la ayuda.",
        ),
    },
    Story {
        section: "opinion",
        tags: &["elections"],
        region: "us-canada",
        authors: &["karim-aziz"],
        image: 2,
        hours_ago: 60,
        featured: false,
        en: (
            "Opinion: local races deserve national attention",
            "The decisions that shape daily life are made far from the capital.",
            "Every election season the national contest swallows the coverage, yet the decisions that shape schools, water and transport are made in races few people follow.",
        ),
        ar: (
            "رأي: الانتخابات المحلية تستحق اهتماماً وطنياً",
            "القرارات التي تشكل الحياة اليومية تُتخذ بعيداً عن العاصمة.",
            "في كل موسم انتخابي تستحوذ المنافسة الوطنية على التغطية، مع أن القرارات المتعلقة بالمدارس والمياه والنقل تُتخذ في سباقات قلّما يتابعها أحد.",
        ),
        es: (
            "Opinión: las elecciones locales merecen atención nacional",
            "Las decisiones que marcan la vida diaria se toman lejos de la capital.",
            "Cada temporada electoral la contienda nacional acapara la cobertura, aunque las decisiones sobre escuelas, agua y transporte se toman en carreras que pocos siguen.",
        ),
    },
    Story {
        section: "features",
        tags: &["refugees"],
        region: "europe",
        authors: &["newsroom-staff"],
        image: 7,
        hours_ago: 72,
        featured: false,
        en: (
            "The market stalls where new arrivals find their footing",
            "A weekend market has become a first job for hundreds of families.",
            "Every Saturday, a car park on the edge of the city turns into a market where hundreds of newly arrived families sell food, clothes and repairs.",
        ),
        ar: (
            "بسطات السوق التي يجد فيها القادمون الجدد موطئ قدم",
            "سوق نهاية الأسبوع أصبح أول عمل لمئات العائلات.",
            "كل يوم سبت يتحول موقف سيارات على أطراف المدينة إلى سوق تبيع فيه مئات العائلات القادمة حديثاً الطعام والملابس وخدمات التصليح.",
        ),
        es: (
            "Los puestos de mercado donde los recién llegados encuentran su sitio",
            "Un mercado de fin de semana se ha convertido en el primer empleo de cientos de familias.",
            "Cada sábado, un aparcamiento a las afueras de la ciudad se convierte en un mercado donde cientos de familias recién llegadas venden comida, ropa y arreglos.",
        ),
    },
    Story {
        section: "politics",
        tags: &["protests"],
        region: "asia",
        authors: &["agencies"],
        image: 2,
        hours_ago: 84,
        featured: false,
        en: (
            "Thousands march against fuel price rises",
            "Organisers say the protests will continue until subsidies are restored.",
            "Thousands of people marched through the capital on Sunday to protest against a sharp rise in fuel prices, the largest demonstration in the country this year.",
        ),
        ar: (
            "الآلاف يتظاهرون ضد ارتفاع أسعار الوقود",
            "المنظمون يقولون إن الاحتجاجات ستستمر حتى إعادة الدعم.",
            "تظاهر آلاف الأشخاص في شوارع العاصمة يوم الأحد احتجاجاً على ارتفاع حاد في أسعار الوقود، في أكبر تظاهرة تشهدها البلاد هذا العام.",
        ),
        es: (
            "Miles de personas marchan contra la subida del combustible",
            "Los organizadores aseguran que las protestas seguirán hasta que vuelvan los subsidios.",
            "Miles de personas marcharon el domingo por la capital en protesta por una fuerte subida del precio del combustible, la mayor manifestación del año en el país.",
        ),
    },
    Story {
        section: "economy",
        tags: &["economy"],
        region: "latin-america",
        authors: &["ana-beltran", "agencies"],
        image: 7,
        hours_ago: 96,
        featured: false,
        en: (
            "Central bank holds rates as inflation cools",
            "Policymakers signalled cuts could come later in the year.",
            "The central bank left its benchmark rate unchanged on Thursday, saying inflation had cooled for a fourth month but that it wanted more evidence before cutting.",
        ),
        ar: (
            "البنك المركزي يثبت أسعار الفائدة مع تراجع التضخم",
            "صناع القرار ألمحوا إلى إمكانية الخفض لاحقاً هذا العام.",
            "أبقى البنك المركزي سعر الفائدة الرئيسي دون تغيير يوم الخميس، قائلاً إن التضخم تراجع للشهر الرابع لكنه يريد مزيداً من الأدلة قبل الخفض.",
        ),
        es: (
            "El banco central mantiene los tipos mientras se modera la inflación",
            "Las autoridades insinuaron recortes más adelante en el año.",
            "El banco central dejó sin cambios su tipo de referencia el jueves y señaló que la inflación se moderó por cuarto mes, aunque quiere más pruebas antes de recortar.",
        ),
    },
    Story {
        section: "environment",
        tags: &["climate", "energy"],
        region: "africa",
        authors: &["daniel-osei"],
        image: 3,
        hours_ago: 110,
        featured: false,
        en: (
            "Solar mini-grids bring power to off-grid villages",
            "Operators say demand has outpaced their most optimistic forecasts.",
            "A network of solar mini-grids now supplies electricity to more than two hundred villages that were never connected to the national grid.",
        ),
        ar: (
            "شبكات شمسية صغيرة توصل الكهرباء إلى قرى معزولة",
            "المشغلون يقولون إن الطلب تجاوز أكثر توقعاتهم تفاؤلاً.",
            "باتت شبكة من المحطات الشمسية الصغيرة تزود أكثر من مئتي قرية بالكهرباء، وهي قرى لم تُربط قط بالشبكة الوطنية.",
        ),
        es: (
            "Las minirredes solares llevan electricidad a aldeas aisladas",
            "Los operadores dicen que la demanda ha superado sus previsiones más optimistas.",
            "Una red de minirredes solares suministra ya electricidad a más de doscientas aldeas que nunca estuvieron conectadas a la red nacional.",
        ),
    },
    Story {
        section: "explainers",
        tags: &["public-health"],
        region: "asia",
        authors: &["youssef-karim"],
        image: 5,
        hours_ago: 130,
        featured: false,
        en: (
            "Explainer: how heatwaves strain hospitals",
            "Emergency rooms fill with patients days after temperatures peak.",
            "Hospitals feel a heatwave in waves of their own: first heatstroke, then a rise in heart and kidney problems that can last for days after temperatures fall.",
        ),
        ar: (
            "شرح: كيف تُرهق موجات الحر المستشفيات",
            "أقسام الطوارئ تمتلئ بالمرضى بعد أيام من ذروة الحرارة.",
            "تشعر المستشفيات بموجة الحر على مراحل: أولاً ضربات الشمس، ثم ارتفاع في أمراض القلب والكلى قد يستمر أياماً بعد انخفاض الحرارة.",
        ),
        es: (
            "Claves: cómo las olas de calor saturan los hospitales",
            "Las urgencias se llenan días después del pico de temperatura.",
            "Los hospitales viven una ola de calor en oleadas: primero los golpes de calor y después un aumento de problemas cardiacos y renales que dura días.",
        ),
    },
    Story {
        section: "sports",
        tags: &["football"],
        region: "latin-america",
        authors: &["samir-nasser"],
        image: 4,
        hours_ago: 150,
        featured: false,
        en: (
            "Teenage striker signs first professional contract",
            "The 17-year-old has scored in every youth international this year.",
            "A 17-year-old striker who has scored in every youth international this year signed his first professional contract on Monday.",
        ),
        ar: (
            "مهاجم مراهق يوقع أول عقد احترافي",
            "اللاعب البالغ 17 عاماً سجل في كل مباراة دولية للشباب هذا العام.",
            "وقّع مهاجم يبلغ من العمر 17 عاماً، سجل في كل مباراة دولية للشباب هذا العام، أول عقد احترافي له يوم الاثنين.",
        ),
        es: (
            "Un delantero adolescente firma su primer contrato profesional",
            "El joven de 17 años ha marcado en todos los partidos internacionales juveniles del año.",
            "Un delantero de 17 años que ha marcado en todos los partidos internacionales juveniles de este año firmó el lunes su primer contrato profesional.",
        ),
    },
    Story {
        section: "technology",
        tags: &["technology", "elections"],
        region: "us-canada",
        authors: &["lucia-ferrer"],
        image: 6,
        hours_ago: 170,
        featured: false,
        en: (
            "Platforms pledge labels for synthetic campaign videos",
            "Researchers say the labels will only help if they are hard to remove.",
            "Several large platforms have pledged to label campaign videos made with generative tools before the election, though researchers doubt the labels will survive re-uploads.",
        ),
        ar: (
            "منصات تتعهد بوسم مقاطع الحملات المصنّعة",
            "باحثون يقولون إن الوسوم لن تفيد إلا إذا صعُبت إزالتها.",
            "تعهدت منصات كبيرة عدة بوسم مقاطع الحملات الانتخابية المصنوعة بأدوات توليدية قبل الانتخابات، رغم شكوك الباحثين في صمود الوسوم عند إعادة النشر.",
        ),
        es: (
            "Las plataformas prometen etiquetar los vídeos electorales sintéticos",
            "Los investigadores dicen que las etiquetas solo servirán si son difíciles de quitar.",
            "Varias grandes plataformas se han comprometido a etiquetar antes de las elecciones los vídeos de campaña creados con herramientas generativas.",
        ),
    },
    Story {
        section: "in-pictures",
        tags: &["refugees", "climate"],
        region: "asia",
        authors: &["newsroom-staff"],
        image: 8,
        hours_ago: 190,
        featured: false,
        en: (
            "In pictures: a city rebuilds after the floods",
            "Residents return to clear homes and reopen shops.",
            "A week after the water receded, residents are back in their streets clearing mud from homes and reopening the shops that survived.",
        ),
        ar: (
            "بالصور: مدينة تعيد البناء بعد الفيضانات",
            "السكان يعودون لتنظيف المنازل وإعادة فتح المتاجر.",
            "بعد أسبوع من انحسار المياه، عاد السكان إلى شوارعهم لإزالة الطين من المنازل وإعادة فتح المتاجر التي نجت.",
        ),
        es: (
            "En imágenes: una ciudad se reconstruye tras las inundaciones",
            "Los vecinos vuelven para limpiar sus casas y reabrir comercios.",
            "Una semana después de que bajara el agua, los vecinos han vuelto a sus calles para retirar el barro de las casas y reabrir los comercios que resistieron.",
        ),
    },
    Story {
        section: "politics",
        tags: &["diplomacy"],
        region: "europe",
        authors: &["omar-said"],
        image: 1,
        hours_ago: -6,
        featured: false,
        en: (
            "Foreign ministers to meet on humanitarian corridors",
            "The meeting is expected to produce a joint statement on aid access.",
            "Foreign ministers from a dozen countries will meet to agree on the terms of humanitarian corridors, officials said, in a session scheduled to last two days.",
        ),
        ar: (
            "وزراء الخارجية يجتمعون لبحث الممرات الإنسانية",
            "يُتوقع أن يصدر عن الاجتماع بيان مشترك بشأن وصول المساعدات.",
            "سيجتمع وزراء خارجية اثنتي عشرة دولة للاتفاق على شروط الممرات الإنسانية، بحسب مسؤولين، في جلسة تستمر يومين.",
        ),
        es: (
            "Los ministros de Exteriores se reunirán sobre los corredores humanitarios",
            "Se espera que la reunión termine con una declaración conjunta sobre el acceso de la ayuda.",
            "Los ministros de Exteriores de una docena de países se reunirán para acordar las condiciones de los corredores humanitarios, en una sesión de dos días.",
        ),
    },
    Story {
        section: "blog",
        tags: &["culture"],
        region: "mena",
        authors: &["hana-mahmoud"],
        image: 9,
        hours_ago: 0,
        featured: false,
        en: (
            "Notes from a reading list: five novels about home",
            "Books our culture desk kept returning to this season.",
            "These are the novels our culture desk kept returning to this season, each of them about leaving home, finding it again, or building a new one.",
        ),
        ar: (
            "من قائمة القراءة: خمس روايات عن الوطن",
            "كتب عاد إليها قسم الثقافة مراراً هذا الموسم.",
            "هذه الروايات التي ظل قسم الثقافة يعود إليها هذا الموسم، وكل منها يدور حول مغادرة الوطن أو العثور عليه من جديد أو بناء وطن جديد.",
        ),
        es: (
            "Apuntes de una lista de lecturas: cinco novelas sobre el hogar",
            "Libros a los que nuestra sección de cultura volvió esta temporada.",
            "Estas son las novelas a las que nuestra sección de cultura volvió una y otra vez esta temporada, todas sobre dejar el hogar, reencontrarlo o construir uno nuevo.",
        ),
    },
];

fn body(lead: &str, language: &str, related: Option<&str>) -> String {
    let (more, heading, close) = match language {
        "ar" => (
            "اقرأ أيضاً",
            "ما الذي يأتي بعد ذلك",
            "وقال مسؤولون إن مزيداً من التفاصيل سيُعلن خلال الأيام المقبلة، فيما يواصل مراسلونا متابعة التطورات.",
        ),
        "es" => (
            "Lea también",
            "Qué viene ahora",
            "Las autoridades indicaron que darán más detalles en los próximos días, mientras nuestros corresponsales siguen la evolución de los hechos.",
        ),
        _ => (
            "Read more",
            "What comes next",
            "Officials said more details would be announced in the coming days, and our correspondents will keep following the story.",
        ),
    };
    let link = related
        .map(|slug| format!("\n\n**{more}:** [{slug}](/articles/{slug})"))
        .unwrap_or_default();
    format!("{lead}\n\n## {heading}\n\n{close}{link}")
}

fn input<T>(v: T) -> Input<T> {
    Input::Value(v)
}

/// A create's `localized`: the Arabic and the Spanish fields, for those of the two that
/// are configured and are not the item's `base` language; absent when none is left.
fn localized(
    languages: &[String],
    base: &str,
    ar: &[(&str, &str)],
    es: &[(&str, &str)],
) -> Input<serde_json::Value> {
    let mut object = serde_json::Map::new();
    for (lang, fields) in [("ar", ar), ("es", es)] {
        if lang == base || !languages.iter().any(|l| l == lang) || fields.is_empty() {
            continue;
        }
        let values: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|(field, value)| ((*field).to_owned(), (*value).into()))
            .collect();
        object.insert(lang.to_owned(), values.into());
    }
    if object.is_empty() {
        Input::Absent
    } else {
        input(object.into())
    }
}

/// `credit` (an English credit from `CREDITS`) in Arabic and in Spanish.
fn credit_in(credit: &str) -> Option<(&'static str, &'static str)> {
    CREDITS
        .iter()
        .find(|(en, _, _)| *en == credit)
        .map(|(_, ar, es)| (*ar, *es))
}

/// Fills an empty newsroom. Refuses when articles already exist.
pub fn seed(
    conn: &mut DbConn,
    actor: Actor,
    languages: &[String],
    site: &crate::domain::feeds::Site,
) -> AppResult<DemoSummary> {
    use diesel::prelude::*;
    let existing: i64 = crate::schema::articles::table.count().get_result(conn)?;
    if existing > 0 {
        return Err(AppError::Conflict {
            code: "not_empty",
            detail: format!(
                "the database already has {existing} articles; the demo fills an empty newsroom"
            ),
        });
    }
    let mut summary = DemoSummary::default();
    super::ensure_taxonomy(conn)?;
    // Bylines, tags and images have the first configured language as their base.
    let base = languages.first().map(String::as_str).unwrap_or("en");
    for byline in AUTHORS {
        let (ar_name, ar_bio) = byline.ar;
        let (es_name, es_bio) = byline.es;
        let mut es = vec![("bio", es_bio)];
        if let Some(name) = es_name {
            es.insert(0, ("name", name));
        }
        authors::create(
            conn,
            AuthorCreate {
                name: input(byline.name.to_owned()),
                bio: input(byline.bio.to_owned()),
                localized: localized(languages, base, &[("name", ar_name), ("bio", ar_bio)], &es),
                ..Default::default()
            },
            languages,
        )?
        .within_a_write_of_everything();
        summary.authors += 1;
    }
    for (name, ar, es) in TAGS {
        tags::create(
            conn,
            TagCreate {
                name: input((*name).to_owned()),
                localized: localized(languages, base, &[("name", ar)], &[("name", es)]),
                ..Default::default()
            },
            languages,
        )?
        .within_a_write_of_everything();
        summary.tags += 1;
    }
    let mut image_ids = Vec::new();
    for image in IMAGES {
        let alt = |caption: &'static str| caption.trim_end_matches('.');
        let (mut ar, mut es) = (
            vec![("caption", image.ar), ("alt_text", alt(image.ar))],
            vec![("caption", image.es), ("alt_text", alt(image.es))],
        );
        if let Some((ar_credit, es_credit)) = credit_in(image.credit) {
            ar.push(("credit", ar_credit));
            es.push(("credit", es_credit));
        }
        let item = media::create(
            conn,
            MediaCreate {
                kind: input(MediaKind::Image),
                url: input(format!(
                    "https://images.example.com/demo/{}.jpg",
                    image.file
                )),
                mime_type: input("image/jpeg".to_owned()),
                width: input(1600),
                height: input(900),
                caption: input(image.caption.to_owned()),
                credit: input(image.credit.to_owned()),
                alt_text: input(alt(image.caption).to_owned()),
                localized: localized(languages, base, &ar, &es),
                ..Default::default()
            },
            languages,
        )?
        .within_a_write_of_everything();
        image_ids.push(item.id);
        summary.media += 1;
    }
    let now = Timestamp::now().unix();
    let mut first_slugs: Vec<String> = Vec::new();
    // English stories of the ceasefire coverage hub, by index in `first_slugs`.
    let mut coverage: Vec<usize> = Vec::new();
    for (i, story) in STORIES.iter().enumerate() {
        for (language, (title, standfirst, lead)) in
            [("en", story.en), ("ar", story.ar), ("es", story.es)]
        {
            if !languages.iter().any(|l| l == language) {
                continue;
            }
            // A few Spanish editions are still drafts; stories with a future time are scheduled.
            let draft = language == "es" && i % 7 == 3;
            let related = first_slugs.last().map(String::as_str);
            // The Arabic and Spanish editions join the English one's translation group.
            let translation_of = match (language, first_slugs.get(i)) {
                ("en", _) | (_, None) => Input::Absent,
                (_, Some(en)) => input(en.clone()),
            };
            let created = article_write::create(
                conn,
                actor,
                ArticleCreate {
                    language: input(language.to_owned()),
                    title: input(title.to_owned()),
                    summary: input(standfirst.to_owned()),
                    body: input(body(lead, language, related)),
                    section: input(story.section.to_owned()),
                    tags: input(story.tags.iter().map(|t| (*t).to_owned()).collect()),
                    regions: input(vec![story.region.to_owned()]),
                    authors: input(story.authors.iter().map(|a| (*a).to_owned()).collect()),
                    source: if story.authors.contains(&"agencies") {
                        input("Agencies".to_owned())
                    } else {
                        Input::Absent
                    },
                    hero_media_id: input(image_ids[story.image % image_ids.len()]),
                    featured: input(story.featured && language == "en"),
                    status: input(
                        if draft {
                            StoredStatus::Draft
                        } else {
                            StoredStatus::Published
                        }
                        .to_string(),
                    ),
                    published_at: Timestamp::from_unix(
                        now - story.hours_ago * 3600 - i as i64 * 60,
                    )
                    .map(Input::Value)
                    .unwrap_or(Input::Absent),
                    translation_of,
                    ..Default::default()
                },
                languages,
                None,
                site,
            )?
            .within_a_write_of_everything()
            .0;
            if language == "en" {
                first_slugs.push(created.slug);
                if story.tags.contains(&"ceasefire-talks") || story.tags.contains(&"diplomacy") {
                    coverage.push(first_slugs.len() - 1);
                }
            }
            summary.articles += 1;
        }
    }
    if languages.iter().any(|l| l == "en") && !coverage.is_empty() {
        let articles: Vec<String> = coverage.iter().map(|i| first_slugs[*i].clone()).collect();
        let [
            (name, description),
            (ar_name, ar_description),
            (es_name, es_description),
        ] = COLLECTION;
        collections::create(
            conn,
            actor,
            CollectionCreate {
                name: input(name.to_owned()),
                description: input(description.to_owned()),
                language: input("en".to_owned()),
                localized: localized(
                    languages,
                    "en",
                    &[("name", ar_name), ("description", ar_description)],
                    &[("name", es_name), ("description", es_description)],
                ),
                hero_media_id: input(image_ids[0]),
                pinned: input(articles.iter().take(1).cloned().collect()),
                articles: input(articles),
                ..Default::default()
            },
            languages,
        )?
        .within_a_write_of_everything();
        summary.collections += 1;
    }
    let live: &[(&str, &str, i32, i64, Option<i64>)] = &[
        ("en", "Ceasefire talks resume in Cairo", 10, -20, None),
        (
            "en",
            "Runoff turnout figures due at 18:00 GMT",
            5,
            -45,
            Some(6 * 3600),
        ),
        (
            "ar",
            "استئناف محادثات وقف إطلاق النار في القاهرة",
            10,
            -20,
            None,
        ),
        (
            "es",
            "Se reanudan en El Cairo las conversaciones de alto el fuego",
            10,
            -20,
            None,
        ),
        (
            "en",
            "Polls have closed in the first round",
            0,
            -3 * 86400,
            Some(-2 * 86400),
        ),
    ];
    for (language, text, priority, offset, expires) in live {
        breaking::create(
            conn,
            BreakingCreate {
                text: input((*text).to_owned()),
                language: input((*language).to_owned()),
                article: if *priority == 10 {
                    Input::Value(first_slugs[0].clone())
                } else {
                    Input::Absent
                },
                priority: input(*priority),
                published_at: Timestamp::from_unix(now + offset)
                    .map(Input::Value)
                    .unwrap_or(Input::Absent),
                expires_at: expires
                    .and_then(|e| Timestamp::from_unix(now + e))
                    .map(Input::Value)
                    .unwrap_or(Input::Absent),
                ..Default::default()
            },
            languages,
        )?
        .within_a_write_of_everything();
        summary.breaking += 1;
    }
    Ok(summary)
}
