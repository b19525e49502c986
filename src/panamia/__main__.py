from panamia.cli import app

app(prog_name="panamia")
