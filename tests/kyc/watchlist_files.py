"""List files the screening tests import: a UN Security Council XML and an OpenSanctions FtM JSON-lines export,
written here (fictional parties) in the formats the real lists use."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class UnIndividual:
    reference: str
    first: str
    second: str = ""
    third: str = ""
    aliases: list[str] = field(default_factory=list)
    original_script: str = ""
    birth_date: str = ""
    nationality: str = ""
    passport: str = ""
    comments: str = ""


@dataclass
class UnEntity:
    reference: str
    name: str
    aliases: list[str] = field(default_factory=list)
    country: str = ""


def _individual(p: UnIndividual, n: int) -> str:
    aliases = "".join(
        f"<INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>{a}</ALIAS_NAME></INDIVIDUAL_ALIAS>" for a in p.aliases
    )
    return f"""
    <INDIVIDUAL>
      <DATAID>{6900000 + n}</DATAID><VERSIONNUM>1</VERSIONNUM>
      <FIRST_NAME>{p.first}</FIRST_NAME><SECOND_NAME>{p.second}</SECOND_NAME><THIRD_NAME>{p.third}</THIRD_NAME>
      <UN_LIST_TYPE>DRC</UN_LIST_TYPE><REFERENCE_NUMBER>{p.reference}</REFERENCE_NUMBER>
      <LISTED_ON>2016-06-01</LISTED_ON>
      {f"<NAME_ORIGINAL_SCRIPT>{p.original_script}</NAME_ORIGINAL_SCRIPT>" if p.original_script else ""}
      <COMMENTS1>{p.comments}</COMMENTS1>
      {f"<NATIONALITY><VALUE>{p.nationality}</VALUE></NATIONALITY>" if p.nationality else ""}
      {aliases}
      {
        f"<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><DATE>{p.birth_date}</DATE>"
        "</INDIVIDUAL_DATE_OF_BIRTH>"
        if p.birth_date
        else ""
    }
      {
        f"<INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Passport</TYPE_OF_DOCUMENT><NUMBER>{p.passport}</NUMBER>"
        "</INDIVIDUAL_DOCUMENT>"
        if p.passport
        else ""
    }
    </INDIVIDUAL>"""


def _entity(e: UnEntity, n: int) -> str:
    aliases = "".join(
        f"<ENTITY_ALIAS><QUALITY>a.k.a.</QUALITY><ALIAS_NAME>{a}</ALIAS_NAME></ENTITY_ALIAS>" for a in e.aliases
    )
    country = f"<ENTITY_ADDRESS><COUNTRY>{e.country}</COUNTRY></ENTITY_ADDRESS>" if e.country else ""
    return f"""
    <ENTITY>
      <DATAID>{6950000 + n}</DATAID><VERSIONNUM>1</VERSIONNUM><FIRST_NAME>{e.name}</FIRST_NAME>
      <UN_LIST_TYPE>DRC</UN_LIST_TYPE><REFERENCE_NUMBER>{e.reference}</REFERENCE_NUMBER>
      <LISTED_ON>2016-06-01</LISTED_ON>{aliases}{country}
    </ENTITY>"""


def un_xml(individuals: list[UnIndividual], entities: list[UnEntity] = ()) -> bytes:  # type: ignore[assignment]
    body = "".join(_individual(p, n) for n, p in enumerate(individuals))
    ents = "".join(_entity(e, n) for n, e in enumerate(entities))
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<CONSOLIDATED_LIST dateGenerated="2024-05-01T00:00:00">'
        f"<INDIVIDUALS>{body}</INDIVIDUALS><ENTITIES>{ents}</ENTITIES></CONSOLIDATED_LIST>"
    ).encode()


KAZANTSEV = UnIndividual(
    "CDi.901",
    "Viktor",
    "Andreyevich",
    "Kazantsev",
    aliases=["Viktor Kazantsev"],
    original_script="Виктор Андреевич Казанцев",
    birth_date="1968-04-12",
    nationality="Russian Federation",
    passport="P7734521",
    comments="Arms and minerals trafficking network.",
)
ZUBAIDI = UnIndividual(
    "CDi.902", "Khalid", "Hassan", "Al-Zubaidi", aliases=["Abu Yasir"], birth_date="1975-09-30", nationality="Iraq"
)
MULUMBA = UnIndividual(
    "CDi.903",
    "Jean-Pierre",
    "Mulumba",
    "Kabeya",
    birth_date="1971-01-05",
    nationality="Democratic Republic of the Congo",
)
GLMC = UnEntity(
    "CDe.901", "Great Lakes Mining Company SARL", aliases=["GLMC"], country="Democratic Republic of the Congo"
)

UN_LIST = un_xml([KAZANTSEV, ZUBAIDI, MULUMBA], [GLMC])


def ftm_line(entity_id: str, schema: str, **properties: list[str]) -> str:
    return json.dumps(
        {
            "id": entity_id,
            "schema": schema,
            "caption": properties.get("name", [""])[0],
            "properties": properties,
            "datasets": ["test_sanctions"],
        },
        ensure_ascii=False,
    )


FTM_LIST = (
    "\n".join(
        [
            ftm_line(
                "NK-ex-001",
                "Company",
                name=["Comptoir Minier Kivu Or SPRL"],
                alias=["Kivu Or"],
                jurisdiction=["cd"],
                registrationNumber=["CD/GOM/RCCM/14-B-0231"],
                topics=["sanction"],
            ),
            ftm_line(
                "NK-ex-002",
                "Person",
                name=["Amani Bahati Mwamba"],
                birthDate=["1980-02-14"],
                nationality=["cd"],
                idNumber=["OP0098812"],
                topics=["sanction"],
            ),
            ftm_line("NK-ex-003", "Address", full=["Avenue du Lac 12, Goma"]),
        ]
    ).encode()
    + b"\n"
)
