"""Self-contained HTML: one report per platform (`reports/<platform>/report.html`: every
operation with its evidence and a curl line) and the cross-platform matrix page
(`conformance matrix`).

The pages live in `html_report` and `html_matrix`, what they share in `html_base`; this module
is the stable import path.
"""

from conformance.render.html_matrix import render_matrix_page
from conformance.render.html_report import render_platform_report, report_stamp

__all__ = ["render_matrix_page", "render_platform_report", "report_stamp"]
