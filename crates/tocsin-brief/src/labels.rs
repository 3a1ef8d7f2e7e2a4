//! The words of a brief in its four languages. Risk-factor names come with the content (from
//! the framework's translations); these are the headings and the fixed phrases.

use serde::Serialize;
use tocsin_app::brief::Change;
use tocsin_domain::{ActionStatus, Crime, Finding, Lang, Level, Role};

/// Headings and phrases of one language.
#[derive(Debug, Serialize)]
pub struct Labels {
    /// "Brief".
    pub brief: &'static str,
    /// "For".
    pub for_audience: &'static str,
    /// "Made on".
    pub made_on: &'static str,
    /// "Summary".
    pub summary: &'static str,
    /// "Risk factors".
    pub risk_factors: &'static str,
    /// "Risk factor".
    pub factor: &'static str,
    /// "Level".
    pub level: &'static str,
    /// "Change".
    pub change: &'static str,
    /// "Assessment of".
    pub assessment_of: &'static str,
    /// "compared with".
    pub compared_with: &'static str,
    /// "No published assessment."
    pub no_assessment: &'static str,
    /// "Key verified incidents".
    pub key_incidents: &'static str,
    /// "Date".
    pub date: &'static str,
    /// "Place".
    pub place: &'static str,
    /// "Type".
    pub kind: &'static str,
    /// "Fatalities".
    pub fatalities: &'static str,
    /// "incidents".
    pub incidents_word: &'static str,
    /// "verified".
    pub verified_word: &'static str,
    /// "fatalities" (lower case, in a sentence).
    pub fatalities_word: &'static str,
    /// "Incidents and fatalities, last 12 months".
    pub trend: &'static str,
    /// "Map of incidents".
    pub map: &'static str,
    /// The trend's legend: "Incidents (left axis)".
    pub incidents_axis: &'static str,
    /// "Fatalities (right axis)".
    pub fatalities_axis: &'static str,
    /// "incident", "incidents", "fatality", "fatalities" after a number.
    pub counts: [&'static str; 4],
    /// "No incident in this period".
    pub no_incident: &'static str,
    /// The trend's text alternative (see [`tocsin_app::charts::TrendStyle::summary`]).
    pub trend_summary: &'static str,
    /// "Recommended measures".
    pub measures: &'static str,
    /// "Open actions".
    pub open_actions: &'static str,
    /// "Measure".
    pub measure: &'static str,
    /// "Department".
    pub department: &'static str,
    /// "Status".
    pub status: &'static str,
    /// "Due".
    pub due: &'static str,
    /// "overdue".
    pub overdue: &'static str,
    /// "Factors at high or severe no action addresses".
    pub gaps: &'static str,
    /// "Precedents".
    pub precedents: &'static str,
    /// "Legal qualifications recorded".
    pub legal: &'static str,
    /// "None recorded: this brief makes no legal qualification."
    pub no_legal: &'static str,
    /// "Terminology warning".
    pub warning_title: &'static str,
    /// "no legal qualification is recorded for this term".
    pub warning_text: &'static str,
    /// "None."
    pub none: &'static str,
    /// "Risk-factor names: working translation, not the official text."
    pub names_note: &'static str,
    /// "Measure names: working translation; precedents: the toolbox's English text."
    pub toolbox_note: &'static str,
    /// "Contains no source identity. Handle as".
    pub footer: &'static str,
    /// "Totals are lower bounds (only the first 5,000 incidents were read)."
    pub capped: &'static str,
}

const EN: Labels = Labels {
    brief: "Brief",
    for_audience: "For",
    made_on: "Made on",
    summary: "Summary",
    risk_factors: "Risk factors",
    factor: "Risk factor",
    level: "Level",
    change: "Change",
    assessment_of: "Assessment of",
    compared_with: "compared with",
    no_assessment: "No published assessment.",
    key_incidents: "Key verified incidents",
    date: "Date",
    place: "Place",
    kind: "Type",
    fatalities: "Fatalities",
    incidents_word: "incidents",
    verified_word: "verified",
    fatalities_word: "fatalities",
    trend: "Incidents and fatalities per week, last 52 weeks",
    map: "Map of incidents",
    incidents_axis: "Incidents (left axis)",
    fatalities_axis: "Fatalities (right axis)",
    counts: ["incident", "incidents", "fatality", "fatalities"],
    no_incident: "No incident in this period",
    trend_summary: "{incidents} and {fatalities} from {from} to {to}, in {n} weeks; most incidents in the week of {busiest} ({busiest_incidents}, {busiest_fatalities}).",
    measures: "Recommended measures",
    open_actions: "Open actions",
    measure: "Measure",
    department: "Department",
    status: "Status",
    due: "Due",
    overdue: "overdue",
    gaps: "Risk factors at high or severe that no action addresses",
    precedents: "Precedents",
    legal: "Legal qualifications recorded",
    no_legal: "None recorded: this brief makes no legal qualification.",
    warning_title: "Terminology warning",
    warning_text: "no legal qualification is recorded for this term",
    none: "None.",
    names_note: "",
    toolbox_note: "",
    footer: "Contains no source identity. Handle as",
    capped: "The map and the verified count are lower bounds: only the first 5,000 incidents were read.",
};

const FR: Labels = Labels {
    brief: "Note d'information",
    for_audience: "Destinataires",
    made_on: "Établie le",
    summary: "Résumé",
    risk_factors: "Facteurs de risque",
    factor: "Facteur de risque",
    level: "Niveau",
    change: "Évolution",
    assessment_of: "Évaluation du",
    compared_with: "comparée à celle du",
    no_assessment: "Aucune évaluation publiée.",
    key_incidents: "Principaux incidents vérifiés",
    date: "Date",
    place: "Lieu",
    kind: "Type",
    fatalities: "Morts",
    incidents_word: "incidents",
    verified_word: "vérifiés",
    fatalities_word: "morts",
    trend: "Incidents et morts par semaine, 52 dernières semaines",
    map: "Carte des incidents",
    incidents_axis: "Incidents (axe de gauche)",
    fatalities_axis: "Morts (axe de droite)",
    counts: ["incident", "incidents", "mort", "morts"],
    no_incident: "Aucun incident sur cette période",
    trend_summary: "{incidents} et {fatalities} du {from} au {to}, en {n} semaines ; le plus d'incidents la semaine du {busiest} ({busiest_incidents}, {busiest_fatalities}).",
    measures: "Mesures recommandées",
    open_actions: "Actions en cours",
    measure: "Mesure",
    department: "Service",
    status: "Statut",
    due: "Échéance",
    overdue: "en retard",
    gaps: "Facteurs de risque élevés ou graves qu'aucune action ne traite",
    precedents: "Précédents",
    legal: "Qualifications juridiques enregistrées",
    no_legal: "Aucune : cette note ne qualifie pas juridiquement les faits.",
    warning_title: "Avertissement terminologique",
    warning_text: "aucune qualification juridique n'est enregistrée pour ce terme",
    none: "Aucun.",
    names_note: "Noms des facteurs de risque : traduction de travail, non le texte officiel.",
    toolbox_note: "Noms des mesures : traduction de travail ; précédents : texte anglais de la boîte à outils.",
    footer: "Ne contient aucune identité de source. À traiter selon",
    capped: "La carte et le nombre d'incidents vérifiés sont des minimums : seuls les 5 000 premiers incidents ont été lus.",
};

const SW: Labels = Labels {
    brief: "Taarifa fupi",
    for_audience: "Kwa",
    made_on: "Imetolewa",
    summary: "Muhtasari",
    risk_factors: "Mambo ya hatari",
    factor: "Jambo la hatari",
    level: "Kiwango",
    change: "Mabadiliko",
    assessment_of: "Tathmini ya",
    compared_with: "ikilinganishwa na ya",
    no_assessment: "Hakuna tathmini iliyochapishwa.",
    key_incidents: "Matukio makuu yaliyothibitishwa",
    date: "Tarehe",
    place: "Mahali",
    kind: "Aina",
    fatalities: "Vifo",
    incidents_word: "matukio",
    verified_word: "yaliyothibitishwa",
    fatalities_word: "vifo",
    trend: "Matukio na vifo kwa wiki, wiki 52 zilizopita",
    map: "Ramani ya matukio",
    incidents_axis: "Matukio (mhimili wa kushoto)",
    fatalities_axis: "Vifo (mhimili wa kulia)",
    counts: ["tukio", "matukio", "kifo", "vifo"],
    no_incident: "Hakuna tukio katika kipindi hiki",
    trend_summary: "{incidents} na {fatalities} kuanzia {from} hadi {to}, katika wiki {n}; matukio mengi zaidi wiki ya {busiest} ({busiest_incidents}, {busiest_fatalities}).",
    measures: "Hatua zinazopendekezwa",
    open_actions: "Hatua zinazoendelea",
    measure: "Hatua",
    department: "Idara",
    status: "Hali",
    due: "Mwisho",
    overdue: "imechelewa",
    gaps: "Mambo ya hatari ya juu au makali yasiyoshughulikiwa na hatua yoyote",
    precedents: "Mifano ya awali",
    legal: "Tathmini za kisheria zilizorekodiwa",
    no_legal: "Hakuna: taarifa hii haitoi tathmini ya kisheria.",
    warning_title: "Onyo kuhusu istilahi",
    warning_text: "hakuna tathmini ya kisheria iliyorekodiwa kwa neno hili",
    none: "Hakuna.",
    names_note: "Majina ya mambo ya hatari: tafsiri ya kazi, si maandishi rasmi.",
    toolbox_note: "Majina ya hatua: tafsiri ya kazi; mifano ya awali: maandishi ya Kiingereza ya zana.",
    footer: "Haina utambulisho wa chanzo chochote. Shughulikia kama",
    capped: "Ramani na idadi ya matukio yaliyothibitishwa ni za chini kabisa: matukio 5,000 ya kwanza tu yalisomwa.",
};

const AR: Labels = Labels {
    brief: "موجز",
    for_audience: "إلى",
    made_on: "تاريخ الإعداد",
    summary: "الملخص",
    risk_factors: "عوامل الخطر",
    factor: "عامل الخطر",
    level: "المستوى",
    change: "التغير",
    assessment_of: "تقييم بتاريخ",
    compared_with: "مقارنة بتقييم",
    no_assessment: "لا يوجد تقييم منشور.",
    key_incidents: "أبرز الحوادث المؤكدة",
    date: "التاريخ",
    place: "المكان",
    kind: "النوع",
    fatalities: "الوفيات",
    incidents_word: "حادثة",
    verified_word: "مؤكدة",
    fatalities_word: "وفاة",
    trend: "الحوادث والوفيات أسبوعيًا، آخر 52 أسبوعًا",
    map: "خريطة الحوادث",
    incidents_axis: "الحوادث (المحور الأيسر)",
    fatalities_axis: "الوفيات (المحور الأيمن)",
    counts: ["حادثة", "حوادث", "وفاة", "وفيات"],
    no_incident: "لا حوادث في هذه الفترة",
    trend_summary: "{incidents} و{fatalities} من {from} إلى {to}، في {n} أسبوعًا؛ أكثر الحوادث في أسبوع {busiest} ({busiest_incidents}، {busiest_fatalities}).",
    measures: "التدابير الموصى بها",
    open_actions: "الإجراءات الجارية",
    measure: "التدبير",
    department: "الجهة",
    status: "الحالة",
    due: "الموعد",
    overdue: "متأخر",
    gaps: "عوامل خطر مرتفعة أو شديدة لا يعالجها أي إجراء",
    precedents: "سوابق",
    legal: "التوصيفات القانونية المسجلة",
    no_legal: "لا يوجد: لا يتضمن هذا الموجز أي توصيف قانوني.",
    warning_title: "تنبيه بشأن المصطلحات",
    warning_text: "لم يُسجَّل أي توصيف قانوني لهذا المصطلح",
    none: "لا يوجد.",
    names_note: "أسماء عوامل الخطر: ترجمة عمل، وليست النص الرسمي.",
    toolbox_note: "أسماء التدابير: ترجمة عمل؛ السوابق: النص الإنجليزي لمجموعة الأدوات.",
    footer: "لا يتضمن هوية أي مصدر. يُتعامل معه وفق",
    capped: "الخريطة وعدد الحوادث المؤكدة حدود دنيا: قُرئت أول 5000 حادثة فقط.",
};

/// The labels of `lang`.
pub fn labels(lang: Lang) -> &'static Labels {
    match lang {
        Lang::En => &EN,
        Lang::Fr => &FR,
        Lang::Sw => &SW,
        Lang::Ar => &AR,
    }
}

/// A level's name.
pub fn level(lang: Lang, l: Level) -> &'static str {
    let i = l as usize;
    [
        ["none", "low", "moderate", "high", "severe"],
        ["aucun", "faible", "modéré", "élevé", "grave"],
        ["hakuna", "chini", "wastani", "juu", "kali"],
        ["لا يوجد", "منخفض", "متوسط", "مرتفع", "شديد"],
    ][lang.index()][i]
}

/// A change's words.
pub fn change(lang: Lang, c: Change) -> &'static str {
    let i = match c {
        Change::Up => 0,
        Change::Down => 1,
        Change::Same => 2,
        Change::New => 3,
    };
    [
        ["up", "down", "unchanged", "new"],
        ["en hausse", "en baisse", "inchangé", "nouveau"],
        ["imepanda", "imeshuka", "haijabadilika", "mpya"],
        ["ارتفاع", "انخفاض", "دون تغيير", "جديد"],
    ][lang.index()][i]
}

/// An audience role's name.
pub fn audience(lang: Lang, r: Role) -> &'static str {
    let i = match r {
        Role::Admin => 0,
        Role::Analyst => 1,
        Role::DeskOfficer => 2,
        Role::MonitorCoordinator => 3,
        Role::Viewer => 4,
    };
    [
        [
            "administrators",
            "analysts",
            "desk officers",
            "monitor coordinators",
            "readers",
        ],
        [
            "administrateurs",
            "analystes",
            "chargés de dossier",
            "coordinateurs des observateurs",
            "lecteurs",
        ],
        [
            "wasimamizi",
            "wachambuzi",
            "maafisa wa dawati",
            "waratibu wa waangalizi",
            "wasomaji",
        ],
        [
            "مسؤولو النظام",
            "المحللون",
            "موظفو المكاتب",
            "منسقو المراقبين",
            "القراء",
        ],
    ][lang.index()][i]
}

/// An action status's name (only open ones are shown).
pub fn action_status(lang: Lang, s: ActionStatus) -> &'static str {
    let i = match s {
        ActionStatus::Planned => 0,
        ActionStatus::InProgress => 1,
        ActionStatus::Done => 2,
        ActionStatus::Dropped => 3,
    };
    [
        ["planned", "in progress", "done", "dropped"],
        ["prévue", "en cours", "terminée", "abandonnée"],
        ["imepangwa", "inaendelea", "imekamilika", "imeachwa"],
        ["مخطط", "قيد التنفيذ", "منجز", "ملغى"],
    ][lang.index()][i]
}

/// A recorded qualification in words: finding and crime.
pub fn qualification(lang: Lang, f: Finding, c: Crime) -> String {
    let crime = match c {
        Crime::Genocide => 0,
        Crime::CrimesAgainstHumanity => 1,
        Crime::WarCrimes => 2,
    };
    let crime = [
        ["genocide", "crimes against humanity", "war crimes"],
        ["génocide", "crimes contre l'humanité", "crimes de guerre"],
        [
            "mauaji ya kimbari",
            "uhalifu dhidi ya ubinadamu",
            "uhalifu wa kivita",
        ],
        ["الإبادة الجماعية", "الجرائم ضد الإنسانية", "جرائم الحرب"],
    ][lang.index()][crime];
    let finding = match f {
        Finding::RiskOf => 0,
        Finding::MayAmountTo => 1,
        Finding::Determined => 2,
    };
    let finding = [
        [
            "risk of",
            "acts may amount to",
            "determined by a competent body:",
        ],
        [
            "risque de",
            "les actes pourraient constituer",
            "établi par un organe compétent :",
        ],
        [
            "hatari ya",
            "vitendo vinaweza kuwa",
            "imethibitishwa na chombo husika:",
        ],
        ["خطر", "قد ترقى الأفعال إلى", "قررته جهة مختصة:"],
    ][lang.index()][finding];
    format!("{finding} {crime}")
}
