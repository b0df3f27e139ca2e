# Multi-stage: the SDK builds, the slim ASP.NET runtime runs as a non-root user.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /source
COPY Directory.Build.props Directory.Packages.props PostService.sln ./
COPY src/PostService/PostService.csproj src/PostService/
RUN dotnet restore src/PostService/PostService.csproj
COPY src/ src/
RUN dotnet publish src/PostService/PostService.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# compliance.db lives on a volume owned by the unprivileged 'app' user the base image provides.
RUN mkdir -p /data && chown app:app /data
VOLUME /data
USER app
ENV ASPNETCORE_URLS=http://+:8080 \
    PostService__Database__Path=/data/compliance.db
EXPOSE 8080
ENTRYPOINT ["dotnet", "postservice.dll"]
