//! Runs the example: `TENANTRY_URL=http://127.0.0.1:8080 TENANTRY_SERVICE_TOKEN=… cargo run -p host-app-example`,
//! then call `http://127.0.0.1:3000/endpoints` with an access token from Tenantry.

use tenantry_client::host::HostAuth;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let tenantry = std::env::var("TENANTRY_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".to_owned());
    let service_token = std::env::var("TENANTRY_SERVICE_TOKEN").ok();
    let auth = HostAuth::new(&tenantry, service_token.as_deref())?;
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("host app on http://{bind}, trusting Tenantry at {tenantry}");
    axum::serve(listener, host_app_example::app(auth)).await?;
    Ok(())
}
