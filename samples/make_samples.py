"""Write the synthetic sample member list: samples/osb-uye-listesi.{xlsx,csv}.

The list looks like what an industrial-zone (OSB) office hands out: a merged title row, a note,
a blank row, then S.NO / FİRMA ÜNVANI / FAALİYET KONUSU / TELEFON / ADRES / WEB SİTESİ /
E-POSTA / DURUMU; messy URLs, rows with only an e-mail or nothing at all, placeholders, a
duplicate company under two spellings, an IDN domain, a header repeated at a page break and a
"TOPLAM" line at the end. All companies and domains are invented.

The CSV is what Turkish Excel writes for "CSV (virgülle ayrılmış)": Windows-1254, ";" separated,
CRLF. Both files are byte-for-byte reproducible (seeded data, fixed zip timestamps).

    .venv/bin/python samples/make_samples.py
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
import shutil
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

ROOT = Path(__file__).resolve().parent
PACKAGE_COPY = ROOT.parent / "src" / "hunter" / "data" / "samples"
NAME = "osb-uye-listesi"
SEED = 20240102

TITLE = "YEŞİLOVA ORGANİZE SANAYİ BÖLGESİ ÜYE FİRMA LİSTESİ"
NOTE = "Güncelleme tarihi: 02.01.2024 — Bölge Müdürlüğü Üye İlişkileri"
HEADER = ["S.NO", "FİRMA ÜNVANI", "FAALİYET KONUSU", "TELEFON", "ADRES", "WEB SİTESİ", "E-POSTA", "DURUMU"]
HEADER_ROW = 4
REPEAT_HEADER_AFTER = 44  # a page break in the office's PDF: the header comes again

# fmt: off
WORDS = [
    "Aydınlar", "Karaçam", "Yıldıztepe", "Özdemirler", "Kocabeyli", "Akyollar", "Başarırlar", "Çınarlı",
    "Demirtepe", "Ergünler", "Gökçeli", "Hisarönü", "Ilgazlı", "Kayalar", "Kuzeyli", "Meriçli",
    "Narlıdere", "Okyanuslu", "Pınarbaşı", "Sarıçamlı", "Şahinkaya", "Tunçbilek", "Uludere", "Yeşilırmak",
    "Zeytinli", "Altıntaş", "Bozkurtlar", "Cevizli", "Doğanlar", "Esenkaya", "Filizli", "Güneyli",
    "Halıcı", "İnceler", "Karaoklu", "Mercanlı", "Ormanlı", "Sedefli", "Tepecik", "Üçkuyu", "Vadili",
    "Yamaçlı", "Akasyalı", "Bereketli", "Çamlıca", "Derinkuyu", "Erikli", "Gümüşlü", "Kırlangıç",
]
# fmt: on
# fmt: off
SECTORS = [
    ("Tekstil", "Tekstil"), ("Otomotiv Yan Sanayi", "Otomotiv"), ("Plastik", "Plastik"),
    ("Makine", "Makine"), ("Gıda", "Gıda"), ("Kimya", "Kimya"), ("Metal", "Metal"),
    ("Ambalaj", "Ambalaj"), ("Kalıp", "Kalıp"), ("Mobilya", "Mobilya"), ("Elektrik Elektronik", "Elektrik"),
    ("Döküm", "Döküm"), ("Boya ve Vernik", "Boya"),
]
# fmt: on
FORMS = ["A.Ş.", "LTD. ŞTİ.", "SAN. VE TİC. A.Ş.", "SAN. VE TİC. LTD. ŞTİ.", "SAN. TİC. A.Ş."]
PLACES = [  # (organised zone, district, CITY, area code)
    ("YEŞİLOVA OSB", "Nilüfer", "BURSA", "224"),
    ("YEŞİLOVA OSB", "Nilüfer", "BURSA", "224"),
    ("YEŞİLOVA OSB", "Nilüfer", "BURSA", "224"),
    ("Tuzla Kimya Sanayicileri OSB", "Tuzla", "İSTANBUL", "216"),
    ("İkitelli OSB", "Başakşehir", "İSTANBUL", "212"),
    ("Gebze Güzeller OSB", "Gebze", "KOCAELİ", "262"),
    ("Atatürk OSB", "Çiğli", "İZMİR", "232"),
    ("Manisa OSB", "Yunusemre", "MANİSA", "236"),
    ("Çerkezköy OSB", "Çerkezköy", "TEKİRDAĞ", "282"),
    ("Kayseri OSB", "Melikgazi", "KAYSERİ", "352"),
]
STATUSES = ["AKTİF"] * 8 + ["PASİF", "ÜRETİMDE", "İNŞAAT HALİNDE"]
_TR_LOWER_TO_ASCII = str.maketrans("çğıöşüÇĞİÖŞÜ", "cgiosuCGIOSU")


def tr_upper(text: str) -> str:
    return text.replace("i", "İ").replace("ı", "I").upper()


def slug(text: str) -> str:
    return text.translate(_TR_LOWER_TO_ASCII).lower().replace(" ", "-")


def _special(sno: int, name: str, domain: str) -> tuple[str, str, str] | None:
    """(name, website, e-mail) for the rows that show one particular mess; None = a normal row."""
    upper = domain.upper()
    cases: dict[int, tuple[str, str, str]] = {
        3: (
            "AYDINLAR TEKSTİL SAN. VE TİC. A.Ş.",
            "WWW.AYDINLAR-TEKSTIL.COM.TR",
            "info@aydinlar-tekstil.com.tr",
        ),
        5: (name, f"http://{domain}/", f"info@{domain}"),
        7: (name, f"https://www.{domain}/tr/iletisim", f"satis@{domain}"),
        8: (name, f"{domain} ", ""),
        9: (name, f"www.{domain}.", f"info@{domain}"),
        11: (name, "", f"info@{domain}"),
        12: ("ÖRNEK KALIP SAN. TİC. LTD. ŞTİ.", "www.örnek-kalıp.com.tr", ""),
        14: (name, "", ""),
        15: (name, f"mail.{domain}", ""),
        17: (name, "-", f"muhasebe@{domain}"),
        19: (name, "YOK", "YOK"),
        21: (name, "", ""),  # its address mentions a web address: it must still be rejected
        23: ("KAYALAR PLASTİK AMBALAJ LTD. ŞTİ.", "", "kayalar.plastik@gmail.com"),
        26: (name, "", f"info@{domain}; satis@{domain}"),
        28: (name, "www.celikyapi", f"info@{domain}"),
        30: (name, "www.demirtepe-metal", ""),
        33: (name, f"HTTP://WWW.{upper}", f"INFO@{upper}"),
        36: (
            "Aydınlar Tekstil Sanayi ve Ticaret AŞ",
            "http://aydinlar-tekstil.com.tr/",
            "ihracat@aydinlar-tekstil.com.tr",
        ),
        41: (name, "", ""),
        52: (
            "BOZKURTLAR OTOMOTİV YAN SAN. LTD. ŞTİ.",
            "www.bozkurtlar-otomotiv.com.tr",
            "info@bozkurtlar-otomotiv.com.tr",
        ),
        67: ("Bozkurtlar Otomotiv Yan Sanayi Ltd.Şti.", "", "satinalma@bozkurtlar-otomotiv.com.tr"),
        73: (name, "https://www.facebook.com/yildiztepegida", f"info@{domain}"),
        78: (name, "", ""),
    }
    return cases.get(sno)


def company_rows() -> list[list[str]]:
    rng = random.Random(SEED)
    used: set[str] = {"aydinlar-tekstil", "bozkurtlar-otomotiv", "kayalar-plastik"}
    rows: list[list[str]] = []
    words = WORDS[:]
    rng.shuffle(words)
    word_iter = iter(words * 2)
    for sno in range(1, 81):
        activity, part = rng.choice(SECTORS)
        while True:
            word = next(word_iter)
            key = f"{slug(word)}-{slug(part)}"
            if key not in used:
                used.add(key)
                break
        domain = f"{key}.com.tr"
        name = f"{tr_upper(word)} {tr_upper(part)} {rng.choice(FORMS)}"
        zone, district, city, area = rng.choice(PLACES)
        phone = f"0 ({area}) {rng.randint(200, 499)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
        address = f"{zone} {rng.randint(1, 12)}. Cad. No: {rng.randint(1, 60)} {district}/{city}"
        if sno == 21:
            address = f"{zone} 5. Cad. No: 14 (www.gurbuzler-ambalaj.com.tr) {district}/{city}"
        status = rng.choice(STATUSES)
        style = rng.randrange(5)
        website = [
            f"www.{domain}",
            domain,
            f"http://www.{domain}",
            f"WWW.{domain.upper()}",
            f"https://{domain}",
        ][style]
        email = "" if rng.random() < 0.2 else f"{rng.choice(['info', 'satis', 'iletisim'])}@{domain}"
        special = _special(sno, name, domain)
        if special is not None:
            name, website, email = special
        if sno == 12:
            activity = "Kalıp"
        if sno in (3, 36):
            activity = "Tekstil"
        if sno in (52, 67):
            activity = "Otomotiv Yan Sanayi"
        rows.append([str(sno), name, activity, phone, address, website, email, status])
    return rows


def sheet_rows() -> list[list[str]]:
    """Every row of the sheet from row 1, blank rows included (the CSV writes them too)."""
    blank = [""] * len(HEADER)
    out = [[TITLE] + [""] * 7, [NOTE] + [""] * 7, blank, HEADER]
    companies = company_rows()
    for row in companies:
        out.append(row)
        if row[0] == str(REPEAT_HEADER_AFTER):
            out.append(HEADER)
    out.append(blank)
    out.append(["", f"TOPLAM {len(companies)} FİRMA"] + [""] * 6)
    return out


def write_xlsx(path: Path, rows: list[list[str]]) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Üye Listesi"
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value == "":
                continue
            # S.NO as a number, as the office's Excel has it.
            ws.cell(row=r, column=c, value=int(value) if c == 1 and value.isdigit() else value)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(HEADER))
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws["A2"].font = Font(italic=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for r, row in enumerate(rows, start=1):
        if row == HEADER:
            for c in range(1, len(HEADER) + 1):
                ws.cell(row=r, column=c).font = Font(bold=True)
                ws.cell(row=r, column=c).fill = fill
    for letter, width in zip("ABCDEFGH", (6, 44, 22, 18, 58, 36, 36, 14), strict=True):
        ws.column_dimensions[letter].width = width
    fixed = dt.datetime(2024, 1, 2, 9, 0, 0)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "Yeşilova OSB"
    wb.properties.lastModifiedBy = "Yeşilova OSB"
    buffer = io.BytesIO()
    wb.save(buffer)
    _write_reproducible_zip(buffer.getvalue(), path)


def _write_reproducible_zip(data: bytes, path: Path) -> None:
    # openpyxl stamps zip entries and properties with the current time; fix them for reproducibility.
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 2, 9, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" with now()
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>2024-01-02T09:00:00Z\g<2>",
                    content,
                )
            dst.writestr(entry, content)


def write_csv(path: Path, rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("cp1254"))


def write_samples(directory: Path) -> list[Path]:
    """Write both files into ``directory``; returns their paths."""
    rows = sheet_rows()
    directory.mkdir(parents=True, exist_ok=True)
    xlsx, csv_path = directory / f"{NAME}.xlsx", directory / f"{NAME}.csv"
    write_xlsx(xlsx, rows)
    write_csv(csv_path, rows)
    return [xlsx, csv_path]


def main() -> None:
    # The repository copy is what people open; the package copy ships in the wheel (sample_path()).
    PACKAGE_COPY.mkdir(parents=True, exist_ok=True)
    for path in write_samples(ROOT):
        shutil.copyfile(path, PACKAGE_COPY / path.name)
        print(f"wrote {path} and {PACKAGE_COPY / path.name}")


if __name__ == "__main__":
    main()
