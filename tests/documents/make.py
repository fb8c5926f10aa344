"""Writes real documents of every format read_document reads, with the libraries people use to
make them (python-docx, python-pptx, openpyxl, xlwt, odfpy, fpdf2), plus hostile ones.
Usage: make.py OUT_DIR"""
import datetime
import io
import os
import sys
import zipfile

import docx
import openpyxl
import pptx
import xlwt
from fpdf import FPDF
from odf.opendocument import OpenDocumentSpreadsheet, OpenDocumentText
from odf.table import Table, TableCell, TableRow
from odf.text import H, List, ListItem, P

out = sys.argv[1]
path = lambda name: os.path.join(out, name)

# Word: a heading, a paragraph with an entity, a bulleted item and a table.
d = docx.Document()
d.add_heading("Quarterly plan", 1)
d.add_paragraph("Revenue grew & costs fell.")
d.add_paragraph("Hire two engineers", style="List Bullet")
t = d.add_table(rows=2, cols=2)
for (r, c), v in {(0, 0): "Region", (0, 1): "Sales", (1, 0): "North", (1, 1): "42"}.items():
    t.cell(r, c).text = v
for i in range(300):
    d.add_paragraph(f"Filler paragraph {i}.")
d.save(path("plan.docx"))

# PowerPoint: two slides with titles, bullets and speaker notes.
p = pptx.Presentation()
for title, body, notes in [("Roadmap", "Ship documents\nShip git", "Mention the browser"), ("Risks", "Zip bombs", "")]:
    s = p.slides.add_slide(p.slide_layouts[1])
    s.shapes.title.text = title
    s.placeholders[1].text = body
    if notes:
        s.notes_slide.notes_text_frame.text = notes
p.save(path("deck.pptx"))

# Excel: 500 data rows with numbers and dates, and a second sheet.
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "Sales"
ws.append(["Region", "Amount", "Date"])
for i in range(500):
    ws.append([f"R{i}", i * 1.5, datetime.date(2026, 1, 1) + datetime.timedelta(days=i)])
wb.create_sheet("Costs").append(["Item", "Cost"])
wb["Costs"].append(["Rent", 1200])
wb.save(path("book.xlsx"))

# Excel 97-2003.
w = xlwt.Workbook()
sh = w.add_sheet("Legacy")
for c, v in enumerate(["Name", "Qty"]):
    sh.write(0, c, v)
sh.write(1, 0, "bolts")
sh.write(1, 1, 7)
w.save(path("old.xls"))

# OpenDocument text and spreadsheet.
odt = OpenDocumentText()
odt.text.addElement(H(outlinelevel=1, text="Minutes"))
odt.text.addElement(P(text="Decided to ship."))
lst = List()
item = ListItem()
item.addElement(P(text="Alice owns it"))
lst.addElement(item)
odt.text.addElement(lst)
odt.save(path("minutes.odt"))
ods = OpenDocumentSpreadsheet()
table = Table(name="Budget")
for row in [["Line", "Euros"], ["Travel", "300"]]:
    tr = TableRow()
    for v in row:
        cell = TableCell(valuetype="string")
        cell.addElement(P(text=v))
        tr.addElement(cell)
    table.addElement(tr)
ods.spreadsheet.addElement(table)
ods.save(path("budget.ods"))

# PDF: three pages of text, and one page with no text (a scan has only images).
pdf = FPDF()
for n in range(3):
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text=f"Page {n + 1} says hello")
pdf.output(path("three.pdf"))
blank = FPDF()
blank.add_page()
blank.output(path("scan.pdf"))

# CSV.
with open(path("people.csv"), "w") as f:
    f.write('name,city\n"Smith, Ann",Berlin\nBob,Paris\n')

# Hostile: a DOCX whose document.xml expands to 300 MB (a zip bomb), an XLSX whose sheet
# holds millions of cells, a broken PDF, a truncated XLSX, and a Word 97 file.
with zipfile.ZipFile(path("bomb.docx"), "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("[Content_Types].xml", "<Types/>")
    with z.open("word/document.xml", "w", force_zip64=True) as f:
        f.write(b"<w:document><w:body><w:p><w:r><w:t>")
        chunk = b" " * (1 << 20)
        for _ in range(300):
            f.write(chunk)
        f.write(b"</w:t></w:r></w:p></w:body></w:document>")
good = io.BytesIO()
small = openpyxl.Workbook()
small.active.append(["a"])
small.save(good)
with zipfile.ZipFile(good) as src, zipfile.ZipFile(path("huge.xlsx"), "w", zipfile.ZIP_DEFLATED) as dst:
    for item in src.infolist():
        if item.filename == "xl/worksheets/sheet1.xml":
            with dst.open(item.filename, "w", force_zip64=True) as f:
                f.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
                row = b"".join(b'<c t="inlineStr"><is><t>xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx</t></is></c>' for _ in range(100))
                for r in range(40000):
                    f.write(b"<row>" + row + b"</row>")
                f.write(b"</sheetData></worksheet>")
        else:
            dst.writestr(item, src.read(item.filename))
with open(path("broken.pdf"), "wb") as f:
    f.write(b"%PDF-1.7\n" + os.urandom(4000))
data = open(path("book.xlsx"), "rb").read()
with open(path("truncated.xlsx"), "wb") as f:
    f.write(data[: len(data) // 2])
with open(path("old.doc"), "wb") as f:
    f.write(bytes([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) + b"\0" * 504)
print("made")
