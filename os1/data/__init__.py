"""Your data: export, delete everything, encryption at rest, and a goodbye."""

from .delete import CONFIRMATION, Deleted, delete_everything
from .export import ExportReport, export_to_dir, export_zip

__all__ = ["CONFIRMATION", "Deleted", "ExportReport", "delete_everything", "export_to_dir", "export_zip"]
