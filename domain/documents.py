"""Reports as documents: one small content model written once, rendered as PDF (fpdf2) and
as docx (python-docx) — the half-year review, the steering forum's annual report and the
municipality's lägesbild and åtgärdsplan.

Swedish text throughout (DejaVu Sans, the font matplotlib ships, so å, ä, ö and dashes
print), tables, chart images, page numbers ("Sida 2 av 5") and blank sections the reader
writes in. The heavy libraries are imported inside the functions that need them.
"""

from __future__ import annotations

import importlib.util
import io
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1


@dataclass(frozen=True)
class Paragraph:
    text: str
    italic: bool = False


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...] = ()  # relative column widths


@dataclass(frozen=True)
class Picture:
    png: bytes
    width_cm: float = 16.0


@dataclass(frozen=True)
class Blank:
    """A section the reader writes: its heading, what belongs there, and room to write."""

    title: str
    prompt: str
    lines: int = 8


@dataclass(frozen=True)
class PageBreak:
    pass


Block = Heading | Paragraph | Table | Picture | Blank | PageBreak


@dataclass
class Document:
    title: str
    subtitle: str
    # "Sida {page} av {pages}" in the reader's language.
    page_label: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)


def _font_dir() -> Path:
    spec = importlib.util.find_spec("matplotlib")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


def to_pdf(doc: Document) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    label = doc.page_label

    class _PDF(FPDF):
        def footer(self) -> None:
            self.set_y(-13)
            self.set_font("DejaVu", "", 8)
            self.set_text_color(110, 110, 110)
            text = label.replace("{page}", str(self.page_no())).replace("{pages}", "{nb}")
            self.cell(0, 8, text, align="C")
            self.set_text_color(0, 0, 0)

    pdf = _PDF(format="A4")
    pdf.set_title(doc.title)
    pdf.set_creator("Samverkan")
    fonts = _font_dir()
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_margins(18, 18, 18)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 18)
    pdf.multi_cell(0, 9, doc.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    pdf.set_text_color(80, 80, 80)
    pdf.multi_cell(0, 6, doc.subtitle, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(4)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for block in doc.blocks:
        if isinstance(block, Heading):
            if pdf.get_y() > pdf.h - 45:
                pdf.add_page()
            pdf.ln(3)
            pdf.set_font("DejaVu", "B", 14 if block.level == 1 else 12)
            pdf.multi_cell(0, 7, block.text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif isinstance(block, Paragraph):
            pdf.set_font("DejaVu", "", 10)  # italics in grey (one font less to embed)
            pdf.set_text_color(*((90, 90, 90) if block.italic else (0, 0, 0)))
            pdf.multi_cell(0, 5.5, block.text, new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
            pdf.ln(1.5)
        elif isinstance(block, Table):
            pdf.set_font("DejaVu", "", 9)
            widths = block.widths or tuple(1.0 for _ in block.headers)
            with pdf.table(
                col_widths=widths,
                width=width,
                headings_style=FontFace(emphasis="BOLD", fill_color=(230, 236, 242)),
                line_height=5,
                text_align="LEFT",
            ) as table:
                row = table.row()
                for header in block.headers:
                    row.cell(header)
                for values in block.rows:
                    row = table.row()
                    for value in values:
                        row.cell(value)
            pdf.ln(3)
        elif isinstance(block, Picture):
            w_mm = min(block.width_cm * 10, width)
            pdf.image(io.BytesIO(block.png), w=w_mm)
            pdf.ln(2)
        elif isinstance(block, Blank):
            if pdf.get_y() > pdf.h - 70:
                pdf.add_page()
            pdf.ln(2)
            pdf.set_font("DejaVu", "B", 12)
            pdf.multi_cell(0, 7, block.title, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("DejaVu", "", 9)
            pdf.set_text_color(90, 90, 90)
            pdf.multi_cell(0, 5, block.prompt, new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
            top = pdf.get_y() + 1
            height = 7.0 * block.lines
            pdf.set_draw_color(170, 170, 170)
            pdf.rect(pdf.l_margin, top, width, height)
            pdf.set_y(top + height + 3)
        elif isinstance(block, PageBreak):
            pdf.add_page()
    return bytes(pdf.output())


def to_docx(doc: Document) -> bytes:
    from docx import Document as DocxDocument
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    out = DocxDocument()
    style = out.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(10.5)
    out.core_properties.title = doc.title
    out.core_properties.author = "Samverkan"
    footer = out.sections[0].footer.paragraphs[0]
    before, _, rest = doc.page_label.partition("{page}")
    middle, _, after = rest.partition("{pages}")

    def field(instruction: str) -> None:
        run = footer.add_run()
        for kind, text in (("begin", None), ("instr", instruction), ("end", None)):
            if kind == "instr":
                element = OxmlElement("w:instrText")
                element.set(qn("xml:space"), "preserve")
                element.text = text
            else:
                element = OxmlElement("w:fldChar")
                element.set(qn("w:fldCharType"), kind)
            run._r.append(element)

    footer.add_run(before)
    field("PAGE")
    footer.add_run(middle)
    field("NUMPAGES")
    footer.add_run(after)

    out.add_heading(doc.title, 0)
    out.add_paragraph(doc.subtitle)
    for block in doc.blocks:
        if isinstance(block, Heading):
            out.add_heading(block.text, block.level)
        elif isinstance(block, Paragraph):
            paragraph = out.add_paragraph()
            paragraph.add_run(block.text).italic = block.italic
        elif isinstance(block, Table):
            table = out.add_table(rows=1, cols=len(block.headers))
            table.style = "Table Grid"
            for cell, header in zip(table.rows[0].cells, block.headers, strict=True):
                cell.text = ""
                cell.paragraphs[0].add_run(header).bold = True
            for values in block.rows:
                cells = table.add_row().cells
                for cell, value in zip(cells, values, strict=True):
                    cell.text = value
            out.add_paragraph()
        elif isinstance(block, Picture):
            out.add_picture(io.BytesIO(block.png), width=Cm(block.width_cm))
        elif isinstance(block, Blank):
            out.add_heading(block.title, 2)
            prompt = out.add_paragraph()
            prompt.add_run(block.prompt).italic = True
            box = out.add_table(rows=1, cols=1)
            box.style = "Table Grid"
            box.rows[0].height = Cm(0.7 * block.lines)
            box.rows[0].cells[0].text = ""
            out.add_paragraph()
        elif isinstance(block, PageBreak):
            out.add_page_break()  # type: ignore[no-untyped-call]
    buffer = io.BytesIO()
    out.save(buffer)
    return buffer.getvalue()
