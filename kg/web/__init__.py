"""The web page, the JSON API and the read-only SPARQL endpoint of `tariffkg serve`.

kg.web.app builds the application (FastAPI on uvicorn); kg.web.questions turns request parameters
into the same validated questions the CLI asks; kg.web.service answers them with the CLI's own
functions (kg.duty, kg.timeline, kg.series); kg.web.chart draws a timeline as SVG; kg.web.search
finds HTS lines by description; kg.web.sparql serves the SPARQL 1.1 Protocol over the embedded
store with a time limit.
"""
