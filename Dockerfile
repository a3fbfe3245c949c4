# syntax=docker/dockerfile:1
# stormproof: the CLI, the reference providers and the chaos runner in one image (docker-compose.yml
# runs the providers and the runner from it). No Node.js: the runner writes Allure results and the
# HTML report is rendered outside (`stormproof report`), so the image stays small.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PACT_DO_NOT_TRACK=true

RUN useradd --create-home --uid 1000 --shell /usr/sbin/nologin stormproof
WORKDIR /app
# The build backend, pinned; installs below reuse it (--no-build-isolation) instead of fetching it.
RUN pip install "setuptools==80.9.0"

# Dependencies in their own layer: install the project once from pyproject.toml alone (empty
# packages, an empty README), so a change to the source or the docs reuses this layer and only the
# dependency-free reinstall below runs again.
COPY pyproject.toml ./
RUN python -c "import pathlib, tomllib; \
setuptools = tomllib.loads(pathlib.Path('pyproject.toml').read_text())['tool']['setuptools']; \
roots = setuptools['package-dir']; \
root = lambda name: max((k for k in roots if name == k or name.startswith(k + '.')), key=len); \
[pathlib.Path(roots[root(n)], *n[len(root(n)):].split('.')[1:]).mkdir(parents=True, exist_ok=True) \
 for n in setuptools['packages']]" \
    && touch README.md \
    && pip install --no-build-isolation . \
    && pip uninstall -y stormproof \
    && rm -rf README.md clients providers chaos contracts build ./*.egg-info

COPY README.md ./
COPY clients ./clients
COPY providers ./providers
COPY chaos ./chaos
# The pact files install with the package (the bundled demo's configuration names them).
COPY contracts/pacts ./contracts/pacts
RUN pip install --no-build-isolation --no-deps . && rm -rf build ./*.egg-info

# The compose wiring (docker-compose.yml also mounts compose/ so edits need no rebuild).
COPY compose ./compose

# The stormproof user, by number so that runtimes can tell it is not root without /etc/passwd.
USER 1000:1000
EXPOSE 8001 8002 8003
CMD ["stormproof", "--help"]
