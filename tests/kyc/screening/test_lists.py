"""List importers: UN XML, OFAC XML/CSV, FollowTheMoney JSON lines, operator CSV; hostile input."""

from __future__ import annotations

import json

import pytest

from services.kyc.screening.lists import (
    ListEntry,
    MalformedList,
    parse_csv,
    parse_ftm_jsonl,
    parse_list,
    parse_ofac_csv,
    parse_ofac_xml,
    parse_un_xml,
)

UN_XML = """<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2024-05-01T00:00:00">
 <INDIVIDUALS>
  <INDIVIDUAL>
   <DATAID>900001</DATAID>
   <FIRST_NAME>GASTON</FIRST_NAME><SECOND_NAME>MBAYO</SECOND_NAME><THIRD_NAME>KILUMBA</THIRD_NAME>
   <UN_LIST_TYPE>DRC</UN_LIST_TYPE>
   <REFERENCE_NUMBER>CDi.901</REFERENCE_NUMBER>
   <NAME_ORIGINAL_SCRIPT>Гастон Мбайо</NAME_ORIGINAL_SCRIPT>
   <COMMENTS1>Invented test record.</COMMENTS1>
   <NATIONALITY><VALUE>Democratic Republic of the Congo</VALUE></NATIONALITY>
   <INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Colonel Mbayo</ALIAS_NAME></INDIVIDUAL_ALIAS>
   <INDIVIDUAL_ALIAS><QUALITY>Low</QUALITY><ALIAS_NAME>Gaston K.</ALIAS_NAME></INDIVIDUAL_ALIAS>
   <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><DATE>1971-06-04</DATE></INDIVIDUAL_DATE_OF_BIRTH>
   <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>APPROXIMATELY</TYPE_OF_DATE><YEAR>1972</YEAR></INDIVIDUAL_DATE_OF_BIRTH>
   <INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Passport</TYPE_OF_DOCUMENT><NUMBER>ob 024-331</NUMBER></INDIVIDUAL_DOCUMENT>
  </INDIVIDUAL>
  <INDIVIDUAL>
   <DATAID>900002</DATAID>
   <FIRST_NAME>SALEH</FIRST_NAME><SECOND_NAME>ABDALLAH</SECOND_NAME>
   <UN_LIST_TYPE>Sudan</UN_LIST_TYPE>
   <REFERENCE_NUMBER>SDi.902</REFERENCE_NUMBER>
   <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>BETWEEN</TYPE_OF_DATE><FROM_YEAR>1966</FROM_YEAR><TO_YEAR>1968</TO_YEAR></INDIVIDUAL_DATE_OF_BIRTH>
  </INDIVIDUAL>
 </INDIVIDUALS>
 <ENTITIES>
  <ENTITY>
   <DATAID>900100</DATAID>
   <FIRST_NAME>SOCIETE MINIERE DE LUHOLA SARL</FIRST_NAME>
   <UN_LIST_TYPE>DRC</UN_LIST_TYPE>
   <REFERENCE_NUMBER>CDe.950</REFERENCE_NUMBER>
   <ENTITY_ALIAS><QUALITY>a.k.a.</QUALITY><ALIAS_NAME>SOMILU</ALIAS_NAME></ENTITY_ALIAS>
   <ENTITY_ADDRESS><CITY>Bukavu</CITY><COUNTRY>Democratic Republic of the Congo</COUNTRY></ENTITY_ADDRESS>
  </ENTITY>
 </ENTITIES>
</CONSOLIDATED_LIST>
"""

OFAC_XML = """<?xml version="1.0" standalone="yes"?>
<sdnList xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://tempuri.org/sdnList.xsd">
  <publshInformation><Publish_Date>05/01/2024</Publish_Date><Record_Count>2</Record_Count></publshInformation>
  <sdnEntry>
    <uid>990001</uid><firstName>Viktor Pavlovich</firstName><lastName>ZOLOTAREV</lastName>
    <sdnType>Individual</sdnType>
    <programList><program>RUSSIA-EO14024</program></programList>
    <idList>
      <id><uid>1</uid><idType>Passport</idType><idNumber>72 1234567</idNumber><idCountry>Russia</idCountry></id>
      <id><uid>2</uid><idType>Gender</idType><idNumber>Male</idNumber></id>
    </idList>
    <akaList><aka><uid>3</uid><type>a.k.a.</type><category>strong</category><firstName>Viktor</firstName><lastName>ZOLOTARYOV</lastName></aka></akaList>
    <dateOfBirthList><dateOfBirthItem><uid>4</uid><dateOfBirth>12 Jun 1962</dateOfBirth><mainEntry>true</mainEntry></dateOfBirthItem></dateOfBirthList>
    <nationalityList><nationality><uid>5</uid><country>Russia</country><mainEntry>true</mainEntry></nationality></nationalityList>
  </sdnEntry>
  <sdnEntry>
    <uid>990002</uid><lastName>GREAT LAKES BULLION TRADING LLC</lastName>
    <sdnType>Entity</sdnType>
    <programList><program>DRCONGO</program><program>GLOMAG</program></programList>
    <idList><id><uid>6</uid><idType>Registration ID</idType><idNumber>RCCM/CD/BKV/14-B-123</idNumber></id></idList>
    <addressList><address><uid>7</uid><city>Kampala</city><country>Uganda</country></address></addressList>
  </sdnEntry>
</sdnList>
"""

OFAC_CSV = (
    '990010,"KASEREKA, Jean-Bosco",individual,"DRCONGO",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
    "\"DOB 04 Mar 1970; nationality Congo, Democratic Republic of the; a.k.a. 'KASEREKA JB'.\"\r\n"
    '990011,"KIVU METALS SARL",-0- ,"DRCONGO] [GLOMAG",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n'
    '990012,"SEA STAR",vessel,"IRAN",-0- ,"9HA1234",Tanker,-0- ,-0- ,"Panama",-0- ,-0- \r\n'
    "\x1a"
)


def _ftm(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False)


FTM_LINES = "\n".join(
    [
        _ftm(
            {
                "id": "os-person-1",
                "schema": "Person",
                "caption": "Mwami Kahindo Lwanga",
                "properties": {
                    "name": ["Mwami Kahindo Lwanga"],
                    "alias": ["Kahindo L."],
                    "birthDate": ["1969-02-30"[:4]],
                    "nationality": ["cd"],
                    "idNumber": ["CD-123 456"],
                    "topics": ["sanction"],
                },
            }
        ),
        _ftm({"id": "os-addr-1", "schema": "Address", "properties": {"full": ["Av. du Lac 4, Goma"]}}),
        _ftm(
            {
                "id": "os-co-1",
                "schema": "Company",
                "properties": {
                    "name": ["Goma Gold Exports SARL"],
                    "weakAlias": ["GGE"],
                    "country": ["cd"],
                    "registrationNumber": ["CD/GOM/RCCM/19-B-0042"],
                    "program": ["EU-DRC"],
                },
            }
        ),
        "",
    ]
)

OPERATOR_CSV = (
    "\ufeffid,name,kind,aliases,birth_date,country,identifiers,program\r\n"
    "OP-1,Jean-Marie Bahati,person,Bahati JM;J.M. Bahati,1980-01-15,Rwanda,ID 1198 0012;,internal\r\n"
    "OP-2,Nyakabingo Trading Ltd,organization,,,RW,RDB-100234,internal\r\n"
)


def test_un_xml_individuals_and_entities() -> None:
    entries = {e.entry_id: e for e in parse_un_xml(UN_XML.encode())}
    gaston = entries["CDi.901"]
    assert gaston.kind == "person"
    assert gaston.names == ("GASTON MBAYO KILUMBA", "Colonel Mbayo", "Gaston K.", "Гастон Мбайо")
    assert gaston.birth_dates == ("1971-06-04", "1972")
    assert gaston.countries == ("CD",)
    assert gaston.identifiers == ("OB024331",)
    assert gaston.programs == ("DRC",)
    assert entries["SDi.902"].birth_dates == ("1966", "1967", "1968")
    entity = entries["CDe.950"]
    assert entity.kind == "organization"
    assert entity.names == ("SOCIETE MINIERE DE LUHOLA SARL", "SOMILU")
    assert entity.countries == ("CD",)


def test_un_xml_missing_name_points_at_the_record() -> None:
    bad = UN_XML.replace("<FIRST_NAME>SALEH</FIRST_NAME><SECOND_NAME>ABDALLAH</SECOND_NAME>", "")
    with pytest.raises(MalformedList) as err:
        parse_un_xml(bad.encode())
    assert err.value.location == "record 2 (INDIVIDUAL)"
    assert "FIRST_NAME" in err.value.reason
    assert "record 2 (INDIVIDUAL)" in str(err.value)


def test_un_xml_bad_date_and_broken_xml() -> None:
    with pytest.raises(MalformedList) as err:
        parse_un_xml(UN_XML.replace("1971-06-04", "1971-02-30").encode())
    assert err.value.location == "record 1 (INDIVIDUAL)"
    with pytest.raises(MalformedList) as err:
        parse_un_xml(UN_XML.replace("</INDIVIDUALS>", "</INDIVIDUAL>").encode())
    assert err.value.location.startswith("line ")
    with pytest.raises(MalformedList, match="root element"):
        parse_un_xml(b"<sdnList/>")


def test_billion_laughs_is_refused() -> None:
    bomb = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><FIRST_NAME>&lol3;</FIRST_NAME></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>"""
    with pytest.raises(MalformedList, match="forbidden"):
        parse_un_xml(bomb.encode())


def test_external_entity_is_refused() -> None:
    xxe = """<?xml version="1.0"?>
<!DOCTYPE sdnList [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<sdnList><sdnEntry><uid>1</uid><lastName>&xxe;</lastName><sdnType>Entity</sdnType></sdnEntry></sdnList>"""
    with pytest.raises(MalformedList, match="forbidden"):
        parse_ofac_xml(xxe.encode())


def test_ofac_xml_with_namespace() -> None:
    person, company = parse_ofac_xml(OFAC_XML.encode())
    assert person.entry_id == "990001"
    assert person.names == ("Viktor Pavlovich ZOLOTAREV", "Viktor ZOLOTARYOV")
    assert person.birth_dates == ("1962-06-12",)
    assert person.countries == ("RU",)
    assert person.identifiers == ("721234567",)  # the Gender "id" is not an identifier
    assert company.kind == "organization"
    assert company.programs == ("DRCONGO", "GLOMAG")
    assert company.identifiers == ("RCCMCDBKV14B123",)
    assert company.countries == ("UG",)


def test_ofac_xml_unknown_type_rejected() -> None:
    with pytest.raises(MalformedList) as err:
        parse_ofac_xml(OFAC_XML.replace("<sdnType>Entity</sdnType>", "<sdnType>Spaceship</sdnType>").encode())
    assert err.value.location == "record 2 (sdnEntry)"


def test_ofac_csv() -> None:
    person, company, vessel = parse_ofac_csv(OFAC_CSV.encode())
    assert person.names == ("Jean-Bosco KASEREKA", "KASEREKA JB")
    assert person.birth_dates == ("1970-03-04",)
    assert person.countries == ("CD",)
    assert company.kind == "organization" and company.programs == ("DRCONGO", "GLOMAG")
    assert vessel.kind == "vessel"


def test_ofac_csv_malformed_rows() -> None:
    short = OFAC_CSV.replace(",-0- \r\n990012", "\r\n990012", 1)
    with pytest.raises(MalformedList) as err:
        parse_ofac_csv(short.encode())
    assert err.value.location == "line 2" and "columns" in err.value.reason
    with pytest.raises(MalformedList) as err:
        parse_ofac_csv(OFAC_CSV.replace("990012", "X12").encode())
    assert err.value.location == "line 3"


def test_ftm_jsonl_skips_non_parties() -> None:
    person, company = parse_ftm_jsonl(FTM_LINES.encode())
    assert person.entry_id == "os-person-1"
    assert person.names == ("Mwami Kahindo Lwanga", "Kahindo L.")
    assert person.countries == ("CD",)
    assert person.identifiers == ("CD123456",)
    assert company.names == ("Goma Gold Exports SARL", "GGE")
    assert company.identifiers == ("CDGOMRCCM19B0042",)
    assert company.programs == ("EU-DRC",)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"id": "x", "schema": "Person", "properties": {"name": ["A B"]', "invalid JSON"),
        ('{"id": "x", "schema": "Person", "properties": {}}', "no name"),
        ('{"schema": "Person", "properties": {"name": ["A"]}}', "missing"),
        ('{"id": "x", "schema": "Company", "properties": {"name": "not a list"}}', "list of strings"),
        ('["just", "a", "list"]', "not a JSON object"),
    ],
)
def test_ftm_jsonl_malformed_line(line: str, reason: str) -> None:
    data = FTM_LINES.replace('"", ', "") + line + "\n"
    with pytest.raises(MalformedList) as err:
        parse_ftm_jsonl(data.encode())
    assert err.value.location == "line 4"
    assert reason in err.value.reason


def test_operator_csv_with_bom_and_crlf() -> None:
    person, company = parse_csv(OPERATOR_CSV.encode("utf-8"))
    assert person.names == ("Jean-Marie Bahati", "Bahati JM", "J.M. Bahati")
    assert person.birth_dates == ("1980-01-15",)
    assert person.countries == ("RW",)
    assert person.identifiers == ("ID11980012",)
    assert company.kind == "organization" and company.identifiers == ("RDB100234",)


def test_operator_csv_rejections() -> None:
    with pytest.raises(MalformedList) as err:
        parse_csv(b"id,kind\nA,person\n")
    assert err.value.location == "line 1" and "name" in err.value.reason
    with pytest.raises(MalformedList) as err:
        parse_csv(b"id,name\nA,Someone\nB,\n")
    assert err.value.location == "line 3"
    with pytest.raises(MalformedList, match="duplicate id"):
        parse_csv(b"id,name\nA,Someone\nA,Someone Else\n")
    with pytest.raises(MalformedList, match="kind"):
        parse_csv(b"id,name,kind\nA,Someone,alien\n")
    with pytest.raises(MalformedList, match="date"):
        parse_csv(b"id,name,birth_date\nA,Someone,yesterday\n")
    with pytest.raises(MalformedList, match="UTF-8"):
        parse_csv("id,name\nA,Société\n".encode("latin-1"))


def test_parse_list_dispatch() -> None:
    assert [e.entry_id for e in parse_list("csv", OPERATOR_CSV.encode())] == ["OP-1", "OP-2"]
    assert len(parse_list("un_xml", UN_XML.encode())) == 3
    with pytest.raises(ValueError, match="unknown list format") as err:
        parse_list("xlsx", b"")
    assert not isinstance(err.value, MalformedList)


def test_fingerprint_tracks_every_field() -> None:
    entry = ListEntry("A", "person", ("Jean Bahati",), ("1980",), ("RW",))
    same = ListEntry("A", "person", ("Jean Bahati",), ("1980",), ("RW",))
    assert entry.fingerprint == same.fingerprint and len(entry.fingerprint) == 64
    assert entry.fingerprint != ListEntry("A", "person", ("Jean Bahati",), ("1981",), ("RW",)).fingerprint
    assert entry.fingerprint != ListEntry("A", "person", ("Jean Bahati", "JB"), ("1980",), ("RW",)).fingerprint
