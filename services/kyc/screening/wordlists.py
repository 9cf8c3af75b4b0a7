"""Word lists used by name normalisation, kept as data so they can be reviewed and extended."""

from __future__ import annotations

# Company legal forms and their spelled-out variants (already transliterated and casefolded).
LEGAL_FORMS = frozenset(
    {
        "sarl",
        "sarlu",
        "sprl",
        "sprlu",
        "sa",
        "sas",
        "sasu",
        "sca",
        "scs",
        "snc",
        "sci",
        "scop",
        "scoop",
        "srl",
        "srls",
        "sl",
        "sac",
        "saa",
        "sab",
        "eirl",
        "eurl",
        "gie",
        "ltda",
        "limitada",
        "ltd",
        "limited",
        "llc",
        "llp",
        "lp",
        "plc",
        "pte",
        "pty",
        "pvt",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "compagnie",
        "compania",
        "companhia",
        "cie",
        "gmbh",
        "mbh",
        "ag",
        "kg",
        "bv",
        "nv",
        "oy",
        "spa",
        "jsc",
        "pjsc",
        "ojsc",
        "cjsc",
        "ooo",
        "oao",
        "zao",
        "pao",
        "ao",
        "tov",
        "too",
        "ip",
        "fze",
        "fzco",
        "fzc",
        "fzllc",
        "wll",
        "spc",
        "bhd",
        "sdn",
        "kft",
        "zrt",
        "doo",
        "sro",
        "asa",
        "aps",
        "sae",
        "sal",
        "cooperative",
        "cooperativa",
        "cooperatives",
        "coop",
        "societe",
        "ste",  # 'Sté', 'Ste': Société abbreviated
        "soc",
        "sociedad",
        "sociedade",
        "societa",
        "ets",
        "etablissements",
        "etablissement",
        "establishment",
        "group",
        "groupe",
        "grupo",
        "grupp",  # Russian and Belarusian 'ГРУПП' as OFAC writes it, Turkish 'grup'
        "gruppa",
        "grup",
        "shrka",
        "mssa",
        # Bulgarian, Serbian, Belarusian and Ukrainian forms as the OFAC list writes them
        "ood",
        "eood",
        "ead",
        "dooel",
        "zat",
        "taa",
        "ztaa",
        "iooo",
        "fllc",
        "szao",
        "szat",
        "aat",
    }
)

# Multi-word legal forms, removed as whole phrases before single words are looked at.
LEGAL_PHRASES = tuple(
    tuple(p.split())
    for p in (
        "societe a responsabilite limitee",
        "societe privee a responsabilite limitee",
        "societe par actions simplifiee",
        "societe anonyme",
        "sociedad anonima cerrada",
        "sociedad anonima",
        "sociedad de responsabilidad limitada",
        "empresa individual de responsabilidad limitada",
        "limited liability company",
        "public joint stock company",
        "closed joint stock company",
        "open joint stock company",
        "joint stock company",
        "public limited company",
        "obshchestvo s ogranichennoy otvetstvennostyu",
        "publichnoe aktsionernoe obshchestvo",
        "zakrytoe aktsionernoe obshchestvo",
        "otkrytoe aktsionernoe obshchestvo",
        "aktsionernoe obshchestvo",
        # the same as OFAC writes them: -oye/-oi endings, Belarusian and Ukrainian
        "obshchestvo s ogranichennoi otvetstvennostyu",
        "obshchestvo s ogranichennoy otvestvennostyu",
        "obschestvo s ogranichennoi otvestvennostyu",
        "obshchestvo s dopolnitelnoy otvetstvennostyu",
        "publichnoye aktsionernoye obshchestvo",
        "zakrytoye aktsionernoye obshchestvo",
        "otkrytoye aktsionernoye obshchestvo",
        "sovmestnoye zakrytoye aktsionernoye obshchestvo",
        "aktsionernoye obshchestvo",
        "tavarystva z abmezhavanay adkaznastsyu",
        "zamezhnaye tavarystva z abmezhavanay adkaznastsyu",
        "tavarystva z dadatkovay adkaznastsyu",
        "zakrytaye aktsyyanernaye tavarystva",
        "adkrytaye aktsyyanernaye tavarystva",
        "sumesnaye zakrytaye aktsyyanernaye tavarystva",
        "aktsyyanernaye tavarystva",
        "tovarystvo z obmezhenoyu vidpovidalnistyu",
        "inostrannoye obshchestvo s ogranichennoy otvetstvennostyu",
    )
)

# Particles and connectors: dropped for matching, kept when nothing else is left.
STOP_WORDS = frozenset(
    {
        "de",
        "du",
        "des",
        "la",
        "le",
        "les",
        "del",
        "della",
        "di",
        "da",
        "dos",
        "das",
        "do",
        "van",
        "von",
        "der",
        "den",
        "et",
        "and",
        "of",
        "the",
        "al",
        "el",
        "wa",
        "bin",
        "ibn",
        "bint",
        "ould",
        "ben",
    }
)

# Particles that are also given names when they open a name ("Ben Mutombo").
FIRST_POSITION_NAMES = frozenset({"ben", "da", "del", "van"})

# Honorifics and ranks in person names.
TITLES = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "mme",
        "mlle",
        "dr",
        "prof",
        "gen",
        "general",
        "col",
        "colonel",
        "lt",
        "maj",
        "major",
        "capt",
        "captain",
        "cpt",
        "sgt",
        "sheikh",
        "shaikh",
        "sheikha",
        "haji",
        "hajji",
        "alhaji",
        "mullah",
        "mwami",
        "chief",
        "sir",
        "daw",  # Burmese honorifics: 'U Chit', 'Daw Khaing Moe'
        "u",
    }
)

# Industry words: kept, but weigh little, so "Kivu Mining" vs "Kivu Gold" is not a strong hit
# and "Mining Company of Kivu" vs "... of Katanga" is decided by the distinctive word.
GENERIC_WORDS = frozenset(
    {
        "mining",
        "mineral",
        "resources",
        "gold",
        "tin",
        "tantalum",
        "coltan",
        "cassiterite",
        "wolframite",
        "tungsten",
        "trading",
        "trade",
        "export",
        "exports",
        "import",
        "comptoir",
        "international",
        "global",
        "general",
        "services",
        "holding",
        "holdings",
        "industries",
        "enterprise",
        "enterprises",
        "investment",
        "investments",
        "exploration",
        "metals",
        "metal",
        "africa",
        "african",
        "business",
        "logistics",
        "transport",
        "development",
        "copper",
        "cobalt",
        "diamond",
        "diamonds",
        "zinc",
        "lithium",
        "coal",
        "iron",
        "silver",
        "nickel",
        "lead",
        "uranium",
        "manganese",
        "refinery",
        "refining",
        "smelter",
        "smelting",
        "energy",
        "finance",
        "telecom",
        "airlines",
        "airline",
        "airways",
        "aviation",
        "shipping",
        "maritime",
        "petroleum",
        "oil",
        "gas",
        "construction",
        "engineering",
        "technology",
        "technologies",
        "electronics",
        "exchange",
        "insurance",
    }
)

# Spelling variants of industry words across English, French, Spanish and Portuguese.
SYNONYMS = {
    "miniere": "mining",
    "minier": "mining",
    "minieres": "mining",
    "minera": "mining",
    "mineria": "mining",
    "mineracao": "mining",
    "mines": "mining",
    "mine": "mining",
    "minerals": "mineral",
    "mineraux": "mineral",
    "minerales": "mineral",
    "minerais": "mineral",
    "ressources": "resources",
    "recursos": "resources",
    "or": "gold",
    "oro": "gold",
    "ouro": "gold",
    "etain": "tin",
    "holdings": "holding",
    "entreprise": "enterprise",
    "empresa": "enterprise",
    "enterprises": "enterprise",
    "metaux": "metals",
    "metales": "metals",
    "internationale": "international",
    "exportation": "export",
    "exportations": "export",
    "exports": "export",
    "investissements": "investments",
    "investissement": "investments",
    "industrie": "industries",
    "afrique": "africa",
    "africaine": "african",
    "commerce": "trading",
    "financial": "finance",
    "financiere": "finance",
    "telecommunication": "telecom",
    "telecommunications": "telecom",
    "trade": "trading",
}

# Arabic compound openers written together or apart: 'Abdelrahman', 'Abd al-Rahman', 'Abdul Rahman'.
# 'Abdur Rahman', 'Abdussalam': the article assimilated to the next consonant.
ABD_PREFIXES = (
    "abdel",
    "abdul",
    "abdoul",
    "abdal",
    "abdol",
    "abdil",
    "abdur",
    "abdush",
    "abdus",
    "abduz",
    "abdun",
    "abdut",
    "abd",
)

# Spelling families of common given names across transliteration conventions (Arabic via
# French/English/Russian, Russian via English/French). First word of a line is the canonical form.
# East Slavic given names: the Belarusian and Ukrainian forms of a Russian given name, as the official romanisations
# of those languages write them (Belarusian 2007 / BGN-PCGN, Ukrainian 2010 national system): Belarusian writes
# unstressed o as a, Russian g as h, v as u before a consonant, t/d softened as ts/dz ('Mikalai' Nikolai, 'Ihar'
# Igor, 'Uladzimir' Vladimir, 'Kanstantsin' Konstantin); OFAC records Belarusian designees in both forms.
NAME_VARIANTS = tuple(
    line.split()
    for line in """
muhammad mohammed mohamed mohamad mohammad muhamad muhammed mohamud mohamoud mahamat magomed mukhammad mouhamed mouhammad
ahmad ahmed ahmet akhmed
yusuf yousef youssef yousuf yusef yussuf youssouf jusuf yusup
husayn hussein husein hussain husain hosein hossein huseyn khusein
hasan hassan khasan
umar omar omer oumar
uthman othman osman usman ousmane otman
ibrahim ebrahim ibraheem brahim ibragim
mustafa mustapha moustapha mostafa moustafa
khalid khaled halid
said saeed sayed saied saaid
sayyid sayyed seyyed seyed syed sayid
ali aly
mahmud mahmoud mahmood makhmud
yahya yahia yehia yahiya
ismail ismael esmail ismayil
sulayman suleiman sulaiman soliman suleyman souleymane sulejman
abubakar abubakr aboubacar boubacar abubakr
idris idriss idrissa
jamal gamal djamal dzhamal
salih saleh salekh
tariq tarek tarik tareq
faisal faysal feisal faycal
nasir nasser naser nassir
karim kareem
aleksandr alexander alexandre aleksander alexandr aliaksandr alyaksandr aliaksandar oleksandr oleksander
yevgeny evgeny evgeniy yevgeniy evgueni yauhen yauheni yaugen yevhen yevhenii yevheniy
dmitry dmitri dmitriy dmitrij dzmitry dzmitri dmytro
sergey sergei serguei sergej siarhei siarhey siargei serhiy serhii serhij
yuri yury yuriy iouri jurij yurii yuryi
andrei andrey andrej andrii andriy
nikolai nikolay nicolai mikalai mikalay mikola mykola
alexei aleksei alexey aleksey aliaksei aliaksey alyaksei oleksiy oleksii
pyotr petr piotr petro pyatro
fyodor fedor fiodor
gennady gennadiy gennadi henadz henadzi hennadiy hennadii
anatoly anatoliy anatoli anatolii anatol
igor ihar ihor
vladimir uladzimir uladzimer volodymyr
vladislav uladzislau vladyslav
konstantin kanstantsin kostiantyn kostyantyn
oleg aleh oleh
leonid leanid
grigory grigoriy ryhor hryhoriy hryhorii
georgy georgiy heorhi heorhiy heorhii
vasily vasiliy vasili vasil vasyl
mikhail mikhailo mykhailo
vitaly vitaliy vitali vitalii vital
valery valeriy valeri valerii
yaroslav yaraslau
stanislav stanislau
boris barys borys
nikita mikita mykyta
yegor egor yahor
denis dzianis
artem artyom artsiom
maksim maxim maksym
pavel paval pavlo
olga volha olha
elena yelena alena alyona olena
irina iryna
natalia natalya nataliya natallia
tatiana tatyana tatsiana tetiana tetyana
svetlana sviatlana svitlana
lyudmila liudmila ludmila liudmyla
galina halina
dieu dyo dyu
dieudonne dyodonne dieudone
""".strip().splitlines()
)

# West African spellings of Abdallah whose ending does not look like 'allah' once split.
ABD_WHOLE_WORDS = {"abdoulaye": ("abd", "lah"), "abdulaye": ("abd", "lah"), "abdoulay": ("abd", "lah")}

# Surnames that mark a Chinese, Korean or Vietnamese name (in the common romanisations). In such names a one-letter
# difference is another syllable and so another name ('Li Ming' / 'Li Ping', 'Minh' / 'Manh'), not a typo.
EAST_ASIAN_SURNAMES = frozenset(
    """
wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he lin gao luo zheng liang xie song tang han
feng deng cao peng zeng xiao tian dong pan yuan cai jiang yu du ye cheng wei su lu ding ren shen yao cui zhong tan
fan jin shi liao jia xia fu fang bai zou meng xiong qin qiu yin xue yan duan lei hou long tao mao hao gu gong shao
wan qian dai kong xiang chang chao chou chu hsu hsieh kuo wong chan cheung tsai hsiao chiang teng tseng kao chung
kim lee park pak choi choe jung jong kang cho jo yoon yun jang lim ri rim oh seo shin sin kwon hwang ahn an ryu jeon
chon hong ko moon mun son bae baek paek ryang pyon kye
nguyen tran le pham hoang huynh phan vu vo dang bui do ho ngo duong ly trinh truong dinh lam mai quach
""".split()
)
