"""CLABE: Mexico's 18-digit standardised bank account number."""
from __future__ import annotations

from domain.errors import DomainError

WEIGHTS = (3, 7, 1) * 6

# Bank codes (first three digits) of SPEI participants; extend as banks join.
BANK_CODES = {
    "002": "BANAMEX", "006": "BANCOMEXT", "009": "BANOBRAS", "012": "BBVA MEXICO", "014": "SANTANDER",
    "019": "BANJERCITO", "021": "HSBC", "030": "BAJIO", "036": "INBURSA", "042": "MIFEL", "044": "SCOTIABANK",
    "058": "BANREGIO", "059": "INVEX", "060": "BANSI", "062": "AFIRME", "072": "BANORTE", "106": "BANK OF AMERICA",
    "108": "MUFG", "110": "JP MORGAN", "112": "BMONEX", "113": "VE POR MAS", "127": "AZTECA", "128": "AUTOFIN",
    "129": "BARCLAYS", "130": "COMPARTAMOS", "132": "MULTIVA BANCO", "133": "ACTINVER", "135": "NAFIN",
    "136": "INTERCAM BANCO", "137": "BANCOPPEL", "138": "ABC CAPITAL", "140": "CONSUBANCO", "141": "VOLKSWAGEN",
    "143": "CIBANCO", "145": "BBASE", "147": "BANKAOOL", "148": "PAGATODO", "150": "INMOBILIARIO",
    "151": "DONDE", "152": "BANCREA", "154": "BANCO COVALTO", "155": "ICBC", "156": "SABADELL", "157": "SHINHAN",
    "158": "MIZUHO BANK", "159": "BANK OF CHINA", "160": "BANCO S3", "166": "BANCO DEL BIENESTAR",
    "168": "HIPOTECARIA FEDERAL", "600": "MONEXCB", "601": "GBM", "602": "MASARI", "605": "VALUE",
    "608": "VECTOR", "616": "FINAMEX", "617": "VALMEX", "620": "PROFUTURO", "630": "CB INTERCAM",
    "631": "CI BOLSA", "634": "FINCOMUN", "638": "NU MEXICO", "646": "STP", "652": "CREDICAPITAL",
    "653": "KUSPIT", "656": "UNAGRA", "659": "ASP INTEGRA OPC", "661": "KLAR", "670": "LIBERTAD",
    "677": "CAJA POP MEXICA", "680": "CRISTOBAL COLON", "683": "CAJA TELEFONIST", "684": "TRANSFER",
    "685": "FONDO (FIRA)", "686": "INVERCAP", "689": "FOMPED", "699": "FONDEADORA", "703": "TESORED",
    "706": "ARCUS", "710": "NVIO", "722": "MERCADO PAGO W", "723": "CUENCA", "728": "SPIN BY OXXO",
    "846": "STP", "901": "CLS", "902": "INDEVAL",
}


class InvalidClabe(DomainError, ValueError):
    """Not a CLABE: wrong length, unknown bank or wrong check digit."""


def check_digit(first17: str) -> int:
    """The CLABE check digit (0-9) of the first 17 digits, weighted 3, 7, 1."""
    total = sum((int(d) * w) % 10 for d, w in zip(first17, WEIGHTS))
    return (10 - total % 10) % 10


def validate(clabe: str) -> str:
    """Return the CLABE if it is valid, else raise InvalidClabe with the reason."""
    if len(clabe) != 18 or not (clabe.isascii() and clabe.isdigit()):
        raise InvalidClabe("a CLABE has 18 digits")
    if clabe[:3] not in BANK_CODES:
        raise InvalidClabe(f"unknown bank code {clabe[:3]}")
    if check_digit(clabe[:17]) != int(clabe[17]):
        raise InvalidClabe("wrong check digit")
    return clabe


def is_valid(clabe: str | None) -> bool:
    """Whether the value is a valid CLABE; None or an empty string is not."""
    try:
        validate(clabe or "")
        return True
    except InvalidClabe:
        return False


def make(bank_code: str, branch: str, account: str) -> str:
    """Build a valid CLABE from its parts (bank 3, branch 3, account 11 digits)."""
    body = f"{bank_code:0>3}{branch:0>3}{account:0>11}"
    return body + str(check_digit(body))
